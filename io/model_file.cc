// tapegrad/io/model_file.cc: model and state-dict files.
#include "io/model_file.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "io/file_io.h"
#include "io/proto/tapegrad.pb.h"
#include "io/tensor_proto.h"
#include "io/trace.h"

namespace tg::io {

namespace {

template <typename Message>
void set_header(Message* m, const char* kind) {
  m->set_format_major(kFormatMajor);
  m->set_format_minor(kFormatMinor);
  m->set_producer(kProducer);
  m->set_kind(kind);
}

absl::Status write_model(const proto::GraphProto& graph, bool training, const std::string& path,
                         const std::map<std::string, std::string>& metadata) {
  proto::ModelProto model;
  set_header(&model, "model");
  *model.mutable_graph() = graph;
  model.set_training(training);
  for (const auto& [k, v] : metadata) (*model.mutable_metadata())[k] = v;
  return save_message(path, model);
}

}  // namespace

absl::Status save_model(nn::Module& module, const Tensor& example_input, const std::string& path,
                        const std::map<std::string, std::string>& metadata) {
  auto graph = trace(module, example_input);
  if (!graph.ok()) return graph.status();
  return write_model(*graph, module.is_training(), path, metadata);
}

absl::Status save_model(const GraphModule& module, const std::string& path,
                        const std::map<std::string, std::string>& metadata) {
  return write_model(module.to_proto(), module.is_training(), path, metadata);
}

absl::StatusOr<LoadedModel> load_model(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return parse_model(*bytes, path);
}

absl::StatusOr<LoadedModel> parse_model(const std::string& bytes, const std::string& path) {
  proto::ModelProto model;
  absl::Status s = parse_message(bytes, path, "model", &model);
  if (!s.ok()) return s;
  auto module = GraphModule::create(model.graph(), path);
  if (!module.ok()) return module.status();
  (*module)->train(model.training());
  LoadedModel out{*module, {}, model.producer()};
  for (const auto& [k, v] : model.metadata()) out.metadata[k] = v;
  return out;
}

absl::Status save(const nn::Module& module, const std::string& path) {
  proto::CheckpointProto file;
  set_header(&file, "state_dict");
  to_proto(module.state_dict(), file.mutable_model_state());
  return save_message(path, file);
}

absl::Status load(nn::Module& module, const std::string& path) {
  proto::CheckpointProto file;
  absl::Status s = load_message(path, "state_dict", &file);
  if (!s.ok()) return s;
  auto state = from_proto(file.model_state(), "model_state");
  if (!state.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", state.status().message()));
  try {
    module.load_state_dict(std::map<std::string, Tensor>(state->begin(), state->end()));
  } catch (const Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<InputNormalization>> input_normalization(
    const std::map<std::string, std::string>& metadata, const std::string& source) {
  const bool has_mean = metadata.count("input_mean") > 0, has_std = metadata.count("input_std") > 0;
  if (!has_mean && !has_std) return std::nullopt;
  if (!has_mean || !has_std) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": metadata has only one of input_mean and input_std"));
  }
  InputNormalization n{};
  for (const auto& [key, value] : {std::pair{"input_mean", &n.mean}, std::pair{"input_std", &n.std}}) {
    const std::string& text = metadata.at(key);
    if (!absl::SimpleAtod(text, value) || !std::isfinite(*value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": metadata ", key, " is not a finite number: '", text, "'"));
    }
  }
  if (!(n.std > 0)) return absl::InvalidArgumentError(absl::StrCat("input std must be positive, got ", n.std));
  return n;
}

}  // namespace tg::io
