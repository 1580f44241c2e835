// tapegrad/io/image.cc: PNG (libpng's simplified API) and JPEG (libjpeg-turbo's TurboJPEG API)
// decoding into float32 [C, H, W], PNG encoding, and the image grid.
#include "io/image.h"

#include <png.h>
#include <turbojpeg.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/files.h"

namespace tg::io {

namespace {

bool starts_with(const std::string& bytes, const char* magic, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

absl::Status check_size(int64_t width, int64_t height, const ImageReadOptions& options, const std::string& source) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": image of ", width, "x", height, " pixels"));
  }
  if (width * height > options.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", width, "x", height, " pixels exceed the limit of ",
                                                   options.max_pixels, " (ImageReadOptions::max_pixels)"));
  }
  return absl::OkStatus();
}

// Interleaved 8-bit samples [H, W, C] -> float32 [C, H, W] / 255.
Tensor planar(const std::vector<uint8_t>& pixels, int64_t channels, int64_t height, int64_t width) {
  ops::Array out = ops::Array::empty({channels, height, width}, kFloat32);
  float* dst = out.data<float>();
  const int64_t plane = height * width;
  for (int64_t p = 0; p < plane; ++p) {
    for (int64_t c = 0; c < channels; ++c) dst[c * plane + p] = pixels[p * channels + c] / 255.0f;
  }
  return Tensor(out);
}

absl::StatusOr<Tensor> decode_png(const std::string& bytes, const std::string& source, const ImageReadOptions& options) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  // Frees libpng's state on every path.
  std::unique_ptr<png_image, void (*)(png_imagep)> guard(&image, png_image_free);
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a readable PNG: ", image.message));
  }
  if (absl::Status s = check_size(image.width, image.height, options, source); !s.ok()) return s;
  const int channels = options.channels != 0 ? options.channels : (image.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  // Alpha is composited onto black (background nullptr with a format without alpha).
  const png_color black{0, 0, 0};
  if (!png_image_finish_read(&image, &black, pixels.data(), 0, nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": corrupt PNG: ", image.message));
  }
  return planar(pixels, channels, image.height, image.width);
}

absl::StatusOr<Tensor> decode_jpeg(const std::string& bytes, const std::string& source,
                                   const ImageReadOptions& options) {
  std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  if (handle == nullptr) return absl::InternalError(absl::StrCat(source, ": cannot start the JPEG decoder"));
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (tjDecompressHeader3(handle.get(), data, bytes.size(), &width, &height, &subsampling, &colorspace) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a readable JPEG: ", tjGetErrorStr2(handle.get())));
  }
  if (absl::Status s = check_size(width, height, options, source); !s.ok()) return s;
  const int channels = options.channels != 0 ? options.channels : colorspace == TJCS_GRAY ? 1 : 3;
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * channels);
  // TJFLAG_STOPONWARNING: a truncated or corrupt stream is an error, not a partly gray image.
  if (tjDecompress2(handle.get(), data, bytes.size(), pixels.data(), width, 0, height,
                    channels == 3 ? TJPF_RGB : TJPF_GRAY, TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": corrupt JPEG: ", tjGetErrorStr2(handle.get())));
  }
  return planar(pixels, channels, height, width);
}

}  // namespace

absl::StatusOr<Tensor> decode_image(const std::string& bytes, const std::string& source,
                                    const ImageReadOptions& options) {
  if (options.channels != 0 && options.channels != 1 && options.channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ImageReadOptions::channels must be 0, 1 or 3, got ",
                                                   options.channels));
  }
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n", 8)) return decode_png(bytes, source, options);
  if (starts_with(bytes, "\xff\xd8\xff", 3)) return decode_jpeg(bytes, source, options);
  return absl::InvalidArgumentError(absl::StrCat(source, ": neither a PNG nor a JPEG file (by its first bytes)"));
}

absl::StatusOr<Tensor> read_image(const std::string& path, const ImageReadOptions& options) {
  // A compressed image is far smaller than its pixels; 4 bytes a pixel bounds any sane file.
  auto bytes = read_file(path, 4 * options.max_pixels + (int64_t{1} << 20));
  if (!bytes.ok()) return bytes.status();
  return decode_image(*bytes, path, options);
}

absl::StatusOr<std::string> png_bytes(const Tensor& image) {
  if (!image.defined() || (image.dim() != 2 && image.dim() != 3)) {
    return absl::InvalidArgumentError(absl::StrCat("save_png: expected [C, H, W] or [H, W], got ",
                                                   image.defined() ? shape_str(image.shape()) : "an undefined tensor"));
  }
  const Tensor chw = image.dim() == 2 ? image.unsqueeze(0) : image;
  const int64_t channels = chw.size(0), height = chw.size(1), width = chw.size(2);
  if (channels != 1 && channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat("save_png: ", channels, " channels in ", shape_str(image.shape()),
                                                   " (1 or 3)"));
  }
  if (height == 0 || width == 0 || height > (1 << 24) || width > (1 << 24)) {
    return absl::InvalidArgumentError(absl::StrCat("save_png: cannot write an image of shape ", shape_str(image.shape())));
  }
  const std::vector<double> values = chw.to(kFloat64).contiguous().to_vector<double>();
  std::vector<uint8_t> pixels(values.size());
  const int64_t plane = height * width;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t p = 0; p < plane; ++p) {
      const double v = values[c * plane + p];
      if (std::isnan(v)) {
        return absl::InvalidArgumentError(absl::StrCat("save_png: NaN at channel ", c, ", row ", p / width,
                                                       ", column ", p % width));
      }
      pixels[p * channels + c] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
    }
  }
  png_image out;
  std::memset(&out, 0, sizeof out);
  out.version = PNG_IMAGE_VERSION;
  out.width = static_cast<png_uint_32>(width);
  out.height = static_cast<png_uint_32>(height);
  out.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(out, size, 0, pixels.data(), 0, nullptr)) {
    const std::string message = out.message;
    png_image_free(&out);
    return absl::InternalError(absl::StrCat("save_png: ", message));
  }
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&out, bytes.data(), &size, 0, pixels.data(), 0, nullptr)) {
    const std::string message = out.message;
    png_image_free(&out);
    return absl::InternalError(absl::StrCat("save_png: ", message));
  }
  bytes.resize(size);
  return bytes;
}

absl::Status save_png(const Tensor& image, const std::string& path) {
  auto bytes = png_bytes(image);
  if (!bytes.ok()) return absl::Status(bytes.status().code(), absl::StrCat(path, ": ", bytes.status().message()));
  return write_file_atomically(path, *bytes);
}

Tensor make_grid(const Tensor& images, int64_t nrow, int64_t padding, double pad_value) {
  TG_CHECK(images.defined() && images.dim() == 4, "make_grid: expected [N, C, H, W], got ",
           images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  TG_CHECK(nrow > 0 && padding >= 0, "make_grid: nrow must be positive and padding >= 0, got nrow ", nrow,
           " padding ", padding);
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  TG_CHECK(n > 0, "make_grid: no images in ", shape_str(images.shape()));
  const int64_t cols = std::min(nrow, n), rows = (n + cols - 1) / cols;
  const int64_t cell_h = h + padding, cell_w = w + padding;
  ops::Array grid = ops::Array::full({c, rows * cell_h + padding, cols * cell_w + padding}, pad_value, kFloat32);
  const ops::Array src = images.data().contiguous();
  const std::vector<float> values = Tensor(src).to(kFloat32).contiguous().to_vector<float>();
  float* dst = grid.data<float>();
  const int64_t grid_h = grid.size(1), grid_w = grid.size(2);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = (i / cols) * cell_h + padding, left = (i % cols) * cell_w + padding;
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t y = 0; y < h; ++y) {
        std::memcpy(dst + (ch * grid_h + top + y) * grid_w + left, values.data() + ((i * c + ch) * h + y) * w,
                    sizeof(float) * w);
      }
    }
  }
  return Tensor(grid);
}

}  // namespace tg::io
