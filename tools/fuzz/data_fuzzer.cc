// tapegrad/tools/fuzz/data_fuzzer.cc: libFuzzer target for the readers of data files users bring:
// PNG and JPEG images (io/image). Any input must give a valid image ([C, H, W], C 1 or 3, values
// in [0, 1]) or a Status: never a crash, hang, huge allocation or out-of-range value.
// Built and run by tools/fuzz/run_fuzz.sh; seeds: small PNG and JPEG files from make_seeds.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "autograd/tapegrad.h"
#include "io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (int channels : {0, 1, 3}) {
    auto image = tg::io::decode_image(bytes, "fuzz.img", {.channels = channels, .max_pixels = 1 << 20});
    if (!image.ok()) continue;
    const tg::Shape& s = image->shape();
    if (s.size() != 3 || (s[0] != 1 && s[0] != 3) || (channels != 0 && s[0] != channels) || s[1] <= 0 || s[2] <= 0) {
      std::abort();
    }
    for (float v : image->to_vector<float>()) {
      if (!(v >= 0.0f && v <= 1.0f)) std::abort();
    }
  }
  return 0;
}
