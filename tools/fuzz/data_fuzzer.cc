// tapegrad/tools/fuzz/data_fuzzer.cc: libFuzzer target for the readers of data files users bring:
// PNG and JPEG images (io/image) and numeric CSV (io/csv). Any input must give a valid result (an
// image [C, H, W], C 1 or 3, values in [0, 1]; a dataset whose features and targets agree in
// rows, finite, class indices >= 0) or a Status: never a crash, hang or huge allocation.
// Built and run by tools/fuzz/run_fuzz.sh; seeds: small PNG, JPEG and CSV files from make_seeds.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "autograd/tapegrad.h"
#include "io/csv.h"
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
  for (const tg::io::CsvOptions& options :
       {tg::io::CsvOptions{}, tg::io::CsvOptions{.target_kind = tg::io::CsvTarget::kValue, .header = false}}) {
    auto csv = tg::io::parse_csv(bytes, "fuzz.csv", options);
    if (!csv.ok()) continue;
    const int64_t rows = csv->targets.size(0);
    if (csv->features.dim() != 2 || csv->features.size(0) != rows ||
        csv->features.size(1) != static_cast<int64_t>(csv->feature_names.size())) {
      std::abort();
    }
    for (float v : csv->features.to_vector<float>()) {
      if (!std::isfinite(v)) std::abort();
    }
    if (options.target_kind == tg::io::CsvTarget::kClassIndex) {
      for (int64_t t : csv->targets.to_vector<int64_t>()) {
        if (t < 0) std::abort();
      }
    }
  }
  return 0;
}
