// tapegrad/tools/fuzz/onnx_fuzzer.cc: libFuzzer target for the ONNX importer and the .npy reader.
// Any input must give a loaded model or a Status (and a loaded model must run on zeros of its
// declared input shapes, or throw tg::Error): never a crash, hang or huge allocation.
// Built and run by tools/fuzz/run_fuzz.sh; seeds: Debian's ONNX conformance models (small ones)
// and .npy files.
#include <cstdint>
#include <string>

#include "autograd/tapegrad.h"
#include "io/npy.h"
#include "io/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // 16 MiB per tensor, for constant folding at load too (the importer's own cap is 1 GiB): every
  // seed model runs within it, and a mutated shape (Tile by 2^20) that asks for hundreds of MB is
  // refused instead of copied for tens of seconds under ASan at -O1.
  tg::ops::AllocationLimitGuard limit(int64_t{1} << 24);
  (void)tg::io::parse_npy(bytes, "fuzz.npy");
  auto model = tg::io::parse_onnx(bytes, "fuzz.onnx");
  if (!model.ok()) return 0;
  std::vector<tg::Tensor> inputs;
  for (const auto& info : model->module->inputs()) {
    tg::Shape shape;
    int64_t numel = 1;
    for (int64_t d : info.shape) {
      shape.push_back(d < 0 ? 1 : d);
      numel *= std::max<int64_t>(shape.back(), 1);
      if (numel > (1 << 16)) return 0;  // a declared input this large is no test of the importer
    }
    inputs.push_back(tg::zeros(shape, info.dtype));
  }
  tg::NoGradGuard no_grad;
  try {
    model->module->eval();
    (void)model->module->forward(inputs);
  } catch (const tg::Error&) {
    // A clean refusal (a shape the graph does not take, a too-large allocation).
  }
  return 0;
}
