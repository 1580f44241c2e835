// tapegrad/io/npy.h: NumPy .npy files (format 1.0-3.0), the raw-array format of the CLI.
// Reads little-endian float32/float64, integers (int8..int64, uint8..uint32, widened to int64)
// and bool, in C or Fortran order; writes float32, float64, int64 and bool in C order. Every
// header field and the byte count are checked before any data is read.
//   auto x = tg::io::load_npy("x.npy");          // absl::StatusOr<Tensor>
//   tg::io::save_npy(y, "y.npy");                // atomic
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "autograd/tensor.h"

namespace tg::io {

absl::StatusOr<Tensor> load_npy(const std::string& path);
// The same from bytes in memory; `source` names them in errors.
absl::StatusOr<Tensor> parse_npy(const std::string& bytes, const std::string& source);
std::string npy_bytes(const Tensor& t);
absl::Status save_npy(const Tensor& t, const std::string& path);

}  // namespace tg::io
