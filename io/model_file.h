// tapegrad/io/model_file.h: model files (a traced graph with its weights) and state-dict files.
//   tg::io::save_model(*model, example_batch, "mnist.tgm", {{"test_accuracy", "0.9885"}});
//   auto loaded = tg::io::load_model("mnist.tgm");   // a GraphModule: run, fine-tune, export
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/graph_module.h"
#include "nn/module.h"

namespace tg::io {

// Traces module on example_input (see trace.h) and writes the model atomically. The file is
// deterministic: the same model and metadata give the same bytes.
absl::Status save_model(nn::Module& module, const Tensor& example_input, const std::string& path,
                        const std::map<std::string, std::string>& metadata = {});
// Writes a loaded (or any) GraphModule back out.
absl::Status save_model(const GraphModule& module, const std::string& path,
                        const std::map<std::string, std::string>& metadata = {});

struct LoadedModel {
  std::shared_ptr<GraphModule> module;
  std::map<std::string, std::string> metadata;
  std::string producer;
};
absl::StatusOr<LoadedModel> load_model(const std::string& path);
// The same from bytes in memory (e.g. received over a network); `source` names them in errors.
absl::StatusOr<LoadedModel> parse_model(const std::string& bytes, const std::string& source);

// The normalization a model's inputs expect, as a model file's metadata records it (input_mean and
// input_std; mnist_cnn, fashion_resnet and transfer_learning --save write them): nullopt when the
// metadata has neither; an error naming `source` when it has one only, a value that is not a finite
// number, or a std that is not positive.
struct InputNormalization {
  double mean, std;
};
absl::StatusOr<std::optional<InputNormalization>> input_normalization(
    const std::map<std::string, std::string>& metadata, const std::string& source);

// The state dict alone (parameters and buffers by name), for a module whose class you have.
absl::Status save(const nn::Module& module, const std::string& path);
absl::Status load(nn::Module& module, const std::string& path);

}  // namespace tg::io
