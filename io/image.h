// tapegrad/io/image.h: PNG and JPEG images as tensors, and PNG files of tensors (libpng and
// libjpeg-turbo, Debian's libpng-dev and libturbojpeg0-dev).
//   auto x = tg::io::read_image("cat.jpg");                 // float32 [C, H, W] in [0, 1]
//   tg::io::save_png(tg::io::make_grid(samples, 8), "samples.png");   // like torchvision's
// Decoding is strict: the format comes from the file's signature, the header's size is checked
// against a pixel limit before anything is allocated, and a truncated or corrupt file is an error
// naming it (never a partly decoded image).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "autograd/tensor.h"

namespace tg::io {

struct ImageReadOptions {
  // 0: as stored (1 for grayscale, 3 for color; an alpha channel is composited onto black);
  // 1 or 3: converted to grayscale or RGB.
  int channels = 0;
  int64_t max_pixels = int64_t{1} << 26;  // width * height refused above this (64 Mpixel)
};

// float32 [C, H, W], values in [0, 1] (8-bit samples / 255; 16-bit PNG samples are reduced to 8).
absl::StatusOr<Tensor> read_image(const std::string& path, const ImageReadOptions& options = {});
// The same from bytes in memory; `source` names them in errors.
absl::StatusOr<Tensor> decode_image(const std::string& bytes, const std::string& source,
                                    const ImageReadOptions& options = {});

// Writes [C, H, W] (C = 1 or 3) or [H, W] as an 8-bit PNG, atomically: values are clamped to
// [0, 1] and scaled to 0..255 (NaN is refused, naming the first).
absl::Status save_png(const Tensor& image, const std::string& path);
// The PNG file's bytes.
absl::StatusOr<std::string> png_bytes(const Tensor& image);

// torchvision.utils.make_grid: [N, C, H, W] laid out in rows of `nrow` images with `padding`
// pixels of `pad_value` around each, as one [C, H', W'] image.
Tensor make_grid(const Tensor& images, int64_t nrow = 8, int64_t padding = 2, double pad_value = 0.0);

}  // namespace tg::io
