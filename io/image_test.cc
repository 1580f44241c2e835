// tapegrad/io/image_test.cc: PNG round trips, JPEG decoding (files made here with TurboJPEG),
// channel conversion, strict errors for truncated, corrupt and oversized files, make_grid, and
// ImageFolder's scan, labels and errors.
#include <turbojpeg.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "io/image.h"
#include "io/image_folder.h"
#include "io/testing/tmp_path.h"

namespace tg::io {
namespace {

// Values k / 255 for a [C, H, W] image, a different pattern per channel.
Tensor pattern(int64_t c, int64_t h, int64_t w) {
  std::vector<float> v;
  for (int64_t i = 0; i < c * h * w; ++i) v.push_back(static_cast<float>((i * 37 + i / 7) % 256) / 255.0f);
  return tensor(v).view({c, h, w});
}

std::string jpeg_of(const Tensor& chw, int quality = 100) {
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
  const std::vector<float> v = chw.contiguous().to_vector<float>();
  std::vector<unsigned char> pixels(c * h * w);
  for (int64_t p = 0; p < h * w; ++p)
    for (int64_t k = 0; k < c; ++k) pixels[p * c + k] = static_cast<unsigned char>(std::lround(v[k * h * w + p] * 255));
  tjhandle handle = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  EXPECT_EQ(tjCompress2(handle, pixels.data(), w, 0, h, c == 3 ? TJPF_RGB : TJPF_GRAY, &out, &size,
                        c == 3 ? TJSAMP_444 : TJSAMP_GRAY, quality, TJFLAG_ACCURATEDCT),
            0);
  std::string bytes(reinterpret_cast<char*>(out), size);
  tjFree(out);
  tjDestroy(handle);
  return bytes;
}

void write(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string message(const absl::Status& s) { return std::string(s.message()); }

TEST(Png, RoundTripsGrayAndRgbExactly) {
  for (int64_t c : {1, 3}) {
    const Tensor x = pattern(c, 5, 7);
    const std::string path = testing::tmp_path("round_" + std::to_string(c) + ".png");
    ASSERT_TRUE(save_png(x, path).ok());
    auto back = read_image(path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->shape(), x.shape());
    EXPECT_TRUE(equal(*back, x)) << "channels " << c;
  }
  auto gray = read_image(testing::tmp_path("round_1.png"));
  ASSERT_TRUE(save_png(squeeze(*gray, 0), testing::tmp_path("hw.png")).ok());  // [H, W] is one channel
  EXPECT_TRUE(equal(*read_image(testing::tmp_path("hw.png")), *gray));
}

TEST(Png, ClampsRoundsAndRefusesNaN) {
  const Tensor x = tensor(std::vector<float>{-1.0f, 0.5f, 2.0f, 0.2f}).view({1, 2, 2});
  const std::string path = testing::tmp_path("clamped.png");
  ASSERT_TRUE(save_png(x, path).ok());
  EXPECT_EQ(read_image(path)->to_vector<float>(),
            (std::vector<float>{0.0f, 128 / 255.0f, 1.0f, 51 / 255.0f}));
  const Tensor bad = tensor(std::vector<float>{0.0f, NAN, 0.0f, 0.0f}).view({1, 2, 2});
  EXPECT_NE(message(save_png(bad, path)).find("NaN at channel 0, row 0, column 1"), std::string::npos);
  EXPECT_NE(message(save_png(zeros({2, 3, 3}), path)).find("2 channels"), std::string::npos);
  EXPECT_NE(message(save_png(zeros({3}), path)).find("expected [C, H, W] or [H, W]"), std::string::npos);
  EXPECT_TRUE(equal(*read_image(path), *read_image(path)));  // refused writes left the file as it was
}

TEST(Jpeg, DecodesColorAndGrayWithinJpegsLoss) {
  for (int64_t c : {1, 3}) {
    const Tensor x = pattern(c, 16, 16) * 0.05 + 0.5;  // low contrast: JPEG-friendly
    auto back = decode_image(jpeg_of(x), "test.jpg");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->shape(), x.shape());
    EXPECT_LT(max(abs(sub(*back, x))).item(), 6.0 / 255) << "channels " << c;
  }
}

TEST(Images, ConvertChannelsOnRequest) {
  const Tensor rgb = pattern(3, 4, 4);
  auto png = png_bytes(rgb);
  ASSERT_TRUE(png.ok());
  auto gray = decode_image(*png, "rgb.png", {.channels = 1});
  ASSERT_TRUE(gray.ok()) << gray.status();
  EXPECT_EQ(gray->shape(), (Shape{1, 4, 4}));
  auto three = decode_image(*png_bytes(*gray), "gray.png", {.channels = 3});
  ASSERT_TRUE(three.ok());
  EXPECT_TRUE(equal(narrow(*three, 0, 0, 1), *gray));
  EXPECT_TRUE(equal(narrow(*three, 0, 2, 1), *gray));
  EXPECT_NE(message(decode_image(*png, "x.png", {.channels = 2}).status()).find("must be 0, 1 or 3"),
            std::string::npos);
}

TEST(Images, BadFilesAreRefusedNamingThem) {
  const std::string png = *png_bytes(pattern(3, 20, 20));
  const std::string jpeg = jpeg_of(pattern(3, 20, 20));
  EXPECT_NE(message(decode_image("hello", "a.png").status()).find("a.png: neither a PNG nor a JPEG"),
            std::string::npos);
  EXPECT_NE(message(decode_image("", "empty.png").status()).find("neither a PNG nor a JPEG"), std::string::npos);
  const auto truncated_png = decode_image(png.substr(0, png.size() - 20), "cut.png");
  EXPECT_FALSE(truncated_png.ok());
  EXPECT_NE(message(truncated_png.status()).find("cut.png"), std::string::npos) << truncated_png.status();
  const auto truncated_jpeg = decode_image(jpeg.substr(0, jpeg.size() / 2), "cut.jpg");
  EXPECT_FALSE(truncated_jpeg.ok());
  EXPECT_NE(message(truncated_jpeg.status()).find("cut.jpg: corrupt JPEG"), std::string::npos) << truncated_jpeg.status();
  std::string flipped = png;
  flipped[60] ^= 0x55;  // inside the image data: the CRC no longer matches
  EXPECT_FALSE(decode_image(flipped, "flipped.png").ok());
  // The size is checked from the header, before any pixel is allocated.
  const auto big = decode_image(png, "big.png", {.max_pixels = 399});
  EXPECT_NE(message(big.status()).find("20x20 pixels exceed the limit of 399"), std::string::npos) << big.status();
  EXPECT_FALSE(decode_image(jpeg, "big.jpg", {.max_pixels = 399}).ok());
  EXPECT_EQ(read_image(testing::tmp_path("missing.png")).status().code(), absl::StatusCode::kNotFound);
}

TEST(MakeGrid, LaysOutRowsWithPadding) {
  const Tensor images = stack({full({1, 2, 2}, 0.25), full({1, 2, 2}, 0.5), full({1, 2, 2}, 0.75)});
  const Tensor grid = make_grid(images, /*nrow=*/2, /*padding=*/1, /*pad_value=*/1.0);
  EXPECT_EQ(grid.shape(), (Shape{1, 7, 7}));  // 2 rows, 2 columns of 2x2 with 1-pixel borders
  EXPECT_EQ(grid.index({0, 1, 1}).item(), 0.25);
  EXPECT_EQ(grid.index({0, 1, 4}).item(), 0.5);
  EXPECT_EQ(grid.index({0, 4, 1}).item(), 0.75);
  EXPECT_EQ(grid.index({0, 4, 4}).item(), 1.0);  // the empty cell keeps pad_value
  EXPECT_EQ(grid.index({0, 0, 0}).item(), 1.0);
  EXPECT_THROW(make_grid(zeros({2, 2, 2})), Error);
  EXPECT_THROW(make_grid(images, 0), Error);
}

TEST(ImageFolder, ClassesAreSortedFoldersAndOtherFilesAreSkipped) {
  const std::string root = testing::tmp_path("folder");
  std::filesystem::remove_all(root);
  write(root + "/zebra/b.png", *png_bytes(full({3, 4, 6}, 0.2)));
  write(root + "/zebra/a.JPG", jpeg_of(full({3, 4, 6}, 0.4)));
  write(root + "/ant/x.png", *png_bytes(full({1, 4, 6}, 0.6)));  // gray, and first: all become gray
  write(root + "/ant/notes.txt", "not an image");
  write(root + "/ant/.hidden.png", "skipped");
  write(root + "/.git/y.png", "skipped");
  auto folder = load_image_folder(root);
  ASSERT_TRUE(folder.ok()) << folder.status();
  EXPECT_EQ(folder->classes, (std::vector<std::string>{"ant", "zebra"}));
  EXPECT_EQ(folder->images.shape(), (Shape{3, 1, 4, 6}));
  EXPECT_EQ(folder->labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(std::filesystem::path(folder->files[1]).filename(), "a.JPG");
  EXPECT_NEAR(folder->images.index({0, 0, 0, 0}).item(), 0.6, 1e-6);
  EXPECT_NEAR(folder->images.index({1, 0, 3, 5}).item(), 0.4, 2.0 / 255);  // gray of an even gray
  auto rgb = load_image_folder(root, {.channels = 3});
  ASSERT_TRUE(rgb.ok()) << rgb.status();
  EXPECT_EQ(rgb->images.shape(), (Shape{3, 3, 4, 6}));
  EXPECT_NEAR(rgb->images.index({2, 2, 1, 1}).item(), 0.2, 1e-6);
}

TEST(ImageFolder, ErrorsNameTheFolderOrFile) {
  const std::string root = testing::tmp_path("bad_folder");
  std::filesystem::remove_all(root);
  EXPECT_EQ(load_image_folder(root).status().code(), absl::StatusCode::kNotFound);
  std::filesystem::create_directories(root);
  EXPECT_NE(message(load_image_folder(root).status()).find("no class folders"), std::string::npos);
  std::filesystem::create_directories(root + "/empty");
  write(root + "/full/a.png", *png_bytes(zeros({1, 3, 3})));
  EXPECT_NE(message(load_image_folder(root).status()).find("class 'empty' has no .png, .jpg or .jpeg images"),
            std::string::npos);
  std::filesystem::remove_all(root + "/empty");
  write(root + "/full/b.png", *png_bytes(zeros({1, 3, 4})));
  const std::string size = message(load_image_folder(root).status());
  EXPECT_NE(size.find("b.png: 4x3 pixels, but"), std::string::npos) << size;
  EXPECT_NE(size.find("a.png has 3x3"), std::string::npos) << size;
  write(root + "/full/b.png", "\x89PNG\r\n\x1a\n garbage");
  EXPECT_NE(message(load_image_folder(root).status()).find("b.png: not a readable PNG"), std::string::npos);
  EXPECT_NE(message(load_image_folder(root, {.max_images = 1}).status()).find("more than 1 images"),
            std::string::npos);
}

}  // namespace
}  // namespace tg::io
