// tapegrad/ops/testing/error_of.h: the message of the exception a call throws, for tests that check
// error text with HasSubstr.
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace tg {

// What f throws (any std::exception), or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace tg
