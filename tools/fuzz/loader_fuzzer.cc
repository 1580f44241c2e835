// tapegrad/tools/fuzz/loader_fuzzer.cc: libFuzzer target for the model and checkpoint loaders.
// Any input must give either a loaded object or a Status: never a crash, hang or huge allocation.
// Built and run by tools/fuzz/run_fuzz.sh (clang, -fsanitize=fuzzer,address).
#include <cstdint>
#include <memory>
#include <string>

#include "autograd/grad_mode.h"
#include "io/checkpoint.h"
#include "io/model_file.h"
#include "nn/linear.h"
#include "optim/adam.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto model = tg::io::parse_model(bytes, "fuzz");
  if (model.ok()) {
    // A loaded graph must also run on a batch of 2.
    tg::Shape shape = model->module->example_shape();
    shape[0] = 2;
    tg::NoGradGuard no_grad;
    tg::ops::AllocationLimitGuard limit(int64_t{1} << 30);
    try {
      (*model->module)(tg::zeros(shape));
    } catch (const tg::Error&) {
      // A tg::Error is a clean refusal (e.g. an input dtype the graph does not take).
    }
  }
  // Fresh objects for every input, so one input never changes how the next one runs.
  tg::manual_seed(0);
  auto linear = std::make_shared<tg::nn::Linear>(4, 3);
  auto optimizer = std::make_unique<tg::optim::Adam>(linear->parameters(), 0.01);
  tg::io::TrainingState state{linear.get(), optimizer.get()};
  (void)tg::io::parse_checkpoint(bytes, "fuzz", &state);
  return 0;
}
