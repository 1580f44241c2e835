// tapegrad/ops/error.h: the framework's exception type and the TG_CHECK macro.
// Programming errors (shape/dtype mismatch, bad attribute, misuse of the API) throw tg::Error with a
// message naming the op and the shapes, e.g. "matmul: [2,3] @ [4,5]: inner dimensions 3 and 4 differ".
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// "[2,3,4]"; "[]" for a 0-dim shape.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace tg

// TG_CHECK(cond, pieces...): throws tg::Error(absl::StrCat(pieces...)) when cond is false.
#define TG_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) throw ::tg::Error(::absl::StrCat(__VA_ARGS__)); \
  } while (0)
