// tapegrad/ops/version.h: tapegrad's version (semantic versioning; the VERSION file at the root
// holds the same string and //ops:version_test keeps the two equal). Model and checkpoint files
// record it as their producer.
#pragma once

namespace tg {

inline constexpr char kVersion[] = "0.2.0";
inline constexpr int kVersionMajor = 0, kVersionMinor = 2, kVersionPatch = 0;

// "0.2.0"
constexpr const char* version() { return kVersion; }

}  // namespace tg
