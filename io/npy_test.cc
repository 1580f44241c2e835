// tapegrad/io/npy_test.cc: .npy round trips, files NumPy wrote (bytes from the format spec:
// Fortran order, narrow integers, version 2.0), and refusal of malformed headers and sizes.
#include "io/npy.h"

#include "autograd/tapegrad.h"
#include "gtest/gtest.h"
#include "io/testing/tmp_path.h"

namespace tg::io {
namespace {

std::string npy(const std::string& header_dict, const std::string& data, int version = 1) {
  std::string header = header_dict;
  const size_t prefix = version == 1 ? 10 : 12;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(version);
  out += '\0';
  const uint32_t len = static_cast<uint32_t>(header.size());
  out.append(reinterpret_cast<const char*>(&len), version == 1 ? 2 : 4);
  return out + header + data;
}

template <typename T>
std::string raw(std::vector<T> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

TEST(Npy, RoundTripsEveryDtype) {
  for (const Tensor& t : {tensor({1.5, -2.0, 3.25, 4.0, 5.0, 6.0}, kFloat32).reshape({2, 3}),
                          tensor({1.5, -2.0}, kFloat64), tensor(std::vector<int64_t>{-7, 0, 1LL << 40}),
                          gt(tensor({1.0, -1.0, 2.0}), 0.0), zeros({0, 4}), scalar_tensor(3.0, kFloat64)}) {
    const std::string path = testing::tmp_path("t.npy");
    ASSERT_TRUE(save_npy(t, path).ok());
    auto back = load_npy(path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype(), t.dtype());
    EXPECT_EQ(back->shape(), t.shape());
    EXPECT_TRUE(equal(*back, t));
  }
}

TEST(Npy, ReadsFortranOrderNarrowIntegersAndVersion2) {
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  auto f = parse_npy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", raw<float>({1, 4, 2, 5, 3, 6})), "f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(equal(*f, tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, kFloat32).reshape({2, 3})));
  auto i = parse_npy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", raw<int32_t>({-1, 2, 1 << 30}), 2), "i");
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_TRUE(equal(*i, tensor(std::vector<int64_t>{-1, 2, 1 << 30})));
  auto u = parse_npy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", raw<uint8_t>({255, 7})), "u");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(equal(*u, tensor(std::vector<int64_t>{255, 7})));
}

TEST(Npy, RefusesMalformedFiles) {
  auto error = [](const std::string& bytes) {
    auto t = parse_npy(bytes, "bad.npy");
    return t.ok() ? std::string("ok") : std::string(t.status().message());
  };
  const std::string good_data = raw<float>({1, 2});
  EXPECT_NE(error("hello").find("not a .npy file"), std::string::npos);
  EXPECT_NE(error(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", good_data)).find("not supported"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", good_data)).find("not supported"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", good_data)).find("needs 12"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", good_data)).find("not a size"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'shape': (2,), }", good_data)).find("fortran_order"), std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': 2, }", good_data)).find("not a tuple"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", good_data))
                .find("too many elements"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", raw<uint8_t>({1, 2})))
                .find("bool byte 2"),
            std::string::npos);
  std::string truncated = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", good_data);
  EXPECT_NE(error(truncated.substr(0, 20)).find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace tg::io
