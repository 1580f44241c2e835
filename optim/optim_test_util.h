// tapegrad/optim/optim_test_util.h: what the optimizer and scheduler tests share: looking up a
// generated reference table (tests/reference/*.inc) and comparing to it.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/error.h"

namespace tg::optim {

using ReferenceTable = std::vector<std::pair<std::string, std::vector<double>>>;

inline const std::vector<double>& reference_entry(const ReferenceTable& table, const std::string& name) {
  for (const auto& [n, v] : table)
    if (n == name) return v;
  throw Error("no reference named " + name);
}

// Element by element to 1e-6 relative (absolute below 1).
inline void expect_relative(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-6 * std::max(1.0, std::fabs(want[i]))) << what << " element " << i;
  }
}

}  // namespace tg::optim
