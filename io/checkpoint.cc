// tapegrad/io/checkpoint.cc: checkpoint encoding and validated restore.
#include "io/checkpoint.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "autograd/grad_mode.h"
#include "io/file_io.h"
#include "io/proto/tapegrad.pb.h"
#include "io/tensor_proto.h"

namespace tg::io {

namespace {

// Parameter names of the optimizer's tensors, looked up in the module.
absl::StatusOr<std::vector<std::string>> optimizer_param_names(const nn::Module& module, const optim::Optimizer& opt) {
  std::unordered_map<const TensorImpl*, std::string> names;
  for (auto& [name, t] : module.named_parameters()) names[t.impl().get()] = name;
  std::vector<std::string> out;
  for (const optim::ParamGroup& g : opt.param_groups()) {
    for (const Tensor& p : g.params) {
      auto it = names.find(p.impl().get());
      if (it == names.end()) return absl::InvalidArgumentError("checkpoint: an optimizer parameter is not a parameter of the module");
      out.push_back(it->second);
    }
  }
  return out;
}

}  // namespace

absl::Status save_checkpoint(const std::string& path, const TrainingState& state) {
  if (state.module == nullptr) return absl::InvalidArgumentError("save_checkpoint: no module");
  proto::CheckpointProto ckpt;
  ckpt.set_format_major(kFormatMajor);
  ckpt.set_format_minor(kFormatMinor);
  ckpt.set_producer(kProducer);
  ckpt.set_kind("checkpoint");
  to_proto(state.module->state_dict(), ckpt.mutable_model_state());
  if (state.optimizer != nullptr) {
    auto names = optimizer_param_names(*state.module, *state.optimizer);
    if (!names.ok()) return names.status();
    proto::OptimizerStateProto* o = ckpt.mutable_optimizer();
    o->set_name(state.optimizer->name());
    size_t index = 0;
    for (const optim::ParamGroup& g : state.optimizer->param_groups()) {
      proto::ParamGroupProto* gp = o->add_groups();
      gp->set_lr(g.lr);
      gp->set_weight_decay(g.weight_decay);
      gp->set_initial_lr(g.initial_lr);
      for (size_t i = 0; i < g.params.size(); ++i) gp->add_params((*names)[index++]);
    }
    for (const optim::ParamState& s : state.optimizer->state()) {
      proto::ParamStateProto* sp = o->add_states();
      sp->set_step(s.step);
      to_proto(s.buffers, sp->mutable_buffers());
    }
  }
  if (state.scheduler != nullptr) {
    ckpt.set_scheduler_step(state.scheduler->last_step());
    for (const auto& [key, value] : state.scheduler->state_dict()) (*ckpt.mutable_scheduler_state())[key] = value;
  }
  ckpt.set_epoch(state.epoch);
  ckpt.set_step(state.step);
  const ops::Generator::State g = ops::default_generator().state();
  for (uint64_t v : g.s) ckpt.mutable_generator()->add_s(v);
  ckpt.mutable_generator()->set_has_cached_normal(g.has_cached_normal);
  ckpt.mutable_generator()->set_cached_normal(g.cached_normal);
  for (const auto& [k, v] : state.metadata) (*ckpt.mutable_metadata())[k] = v;
  for (const EpochRecord& r : state.history) {
    proto::EpochMetricsProto* p = ckpt.add_history();
    p->set_epoch(r.epoch);
    for (const auto& [k, v] : r.values) (*p->mutable_values())[k] = v;
  }
  return save_message(path, ckpt);
}

absl::Status load_checkpoint(const std::string& path, TrainingState* state) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return parse_checkpoint(*bytes, path, state);
}

absl::StatusOr<std::map<std::string, std::string>> read_checkpoint_metadata(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  proto::CheckpointProto ckpt;
  if (absl::Status s = parse_message(*bytes, path, "checkpoint", &ckpt); !s.ok()) return s;
  return std::map<std::string, std::string>(ckpt.metadata().begin(), ckpt.metadata().end());
}

absl::Status parse_checkpoint(const std::string& bytes, const std::string& path, TrainingState* state) {
  if (state == nullptr || state->module == nullptr) return absl::InvalidArgumentError("load_checkpoint: no module");
  proto::CheckpointProto ckpt;
  if (absl::Status s = parse_message(bytes, path, "checkpoint", &ckpt); !s.ok()) return s;
  auto fail = [&](const std::string& what) { return absl::InvalidArgumentError(absl::StrCat(path, ": ", what)); };

  // Decode and validate everything before touching the live objects.
  auto model_state = from_proto(ckpt.model_state(), "model_state");
  if (!model_state.ok()) return fail(std::string(model_state.status().message()));
  std::vector<optim::ParamState> opt_states;
  std::vector<std::pair<double, double>> group_lrs;  // (lr, initial_lr)
  if (state->optimizer != nullptr) {
    const proto::OptimizerStateProto& o = ckpt.optimizer();
    if (o.name() != state->optimizer->name()) {
      return fail(absl::StrCat("optimizer.name: the checkpoint holds '", o.name(), "' state, the run uses ",
                               state->optimizer->name()));
    }
    auto names = optimizer_param_names(*state->module, *state->optimizer);
    if (!names.ok()) return names.status();
    if (o.groups_size() != static_cast<int>(state->optimizer->param_groups().size())) {
      return fail(absl::StrCat("optimizer.groups: ", o.groups_size(), " groups, the optimizer has ",
                               state->optimizer->param_groups().size()));
    }
    size_t index = 0;
    for (int g = 0; g < o.groups_size(); ++g) {
      const auto& live = state->optimizer->param_groups()[g];
      if (o.groups(g).params_size() != static_cast<int>(live.params.size())) {
        return fail(absl::StrCat("optimizer.groups[", g, "].params: ", o.groups(g).params_size(),
                                 " parameters, the optimizer has ", live.params.size()));
      }
      for (int i = 0; i < o.groups(g).params_size(); ++i, ++index) {
        if (o.groups(g).params(i) != (*names)[index]) {
          return fail(absl::StrCat("optimizer.groups[", g, "].params[", i, "]: '", o.groups(g).params(i),
                                   "', the optimizer has '", (*names)[index], "'"));
        }
      }
      group_lrs.emplace_back(o.groups(g).lr(), o.groups(g).initial_lr());
    }
    if (o.states_size() != static_cast<int>(index)) {
      return fail(absl::StrCat("optimizer.states: ", o.states_size(), " entries for ", index, " parameters"));
    }
    size_t flat = 0;
    for (const auto& g : state->optimizer->param_groups()) {
      for (const Tensor& p : g.params) {
        const proto::ParamStateProto& sp = o.states(static_cast<int>(flat));
        const std::string field = absl::StrCat("optimizer.states[", flat, "]");
        if (sp.step() < 0) return fail(absl::StrCat(field, ".step: negative"));
        auto buffers = from_proto(sp.buffers(), field + ".buffers");
        if (!buffers.ok()) return fail(std::string(buffers.status().message()));
        optim::ParamState st;
        st.step = sp.step();
        for (auto& [name, t] : *buffers) {
          // A moment buffer has the parameter's shape and dtype (or float64: L-BFGS's history); a
          // per-parameter scalar (NAdam's mu_product, L-BFGS's counters) is a 0-d float64.
          const bool scalar = t.dim() == 0 && t.dtype() == kFloat64;
          if (!scalar && (t.shape() != p.shape() || (t.dtype() != p.dtype() && t.dtype() != kFloat64))) {
            return fail(absl::StrCat(field, ".buffers (", name, "): shape ", shape_str(t.shape()), " ",
                                     dtype_name(t.dtype()), " does not match parameter ", (*names)[flat], " ",
                                     shape_str(p.shape()), " ", dtype_name(p.dtype())));
          }
          st.buffers[name] = t;
        }
        opt_states.push_back(std::move(st));
        ++flat;
      }
    }
  }
  if (ckpt.generator().s_size() != 4) return fail("generator.s: expected 4 state words");
  if (ckpt.epoch() < 0 || ckpt.step() < 0 || ckpt.scheduler_step() < 0) return fail("negative epoch, step or scheduler_step");
  // A checkpoint from before format 1.2 has the step count only.
  const std::map<std::string, double> scheduler_state(ckpt.scheduler_state().begin(), ckpt.scheduler_state().end());
  if (state->scheduler != nullptr && !scheduler_state.empty()) {
    try {
      state->scheduler->check_state_dict(scheduler_state);
    } catch (const Error& e) {
      return fail(absl::StrCat("scheduler_state: ", e.what()));
    }
  }
  std::vector<EpochRecord> history;
  for (int i = 0; i < ckpt.history_size(); ++i) {
    const proto::EpochMetricsProto& h = ckpt.history(i);
    const int64_t previous = history.empty() ? 0 : history.back().epoch;
    if (h.epoch() <= previous || h.epoch() > ckpt.epoch()) {
      return fail(absl::StrCat("history[", i, "].epoch ", h.epoch(), " is not in (", previous, ", ", ckpt.epoch(),
                               "]: epochs must increase and not pass the checkpoint's epoch"));
    }
    history.push_back({h.epoch(), std::map<std::string, double>(h.values().begin(), h.values().end())});
  }
  try {
    state->module->load_state_dict(std::map<std::string, Tensor>(model_state->begin(), model_state->end()));
  } catch (const Error& e) {
    return fail(e.what());
  }

  // Commit.
  if (state->optimizer != nullptr) {
    state->optimizer->state() = std::move(opt_states);
    for (size_t g = 0; g < group_lrs.size(); ++g) {
      state->optimizer->param_groups()[g].lr = group_lrs[g].first;
      state->optimizer->param_groups()[g].initial_lr = group_lrs[g].second;
    }
  }
  if (state->scheduler != nullptr && !scheduler_state.empty()) {
    state->scheduler->load_state_dict(scheduler_state);  // checked above
  } else if (state->scheduler != nullptr) {
    state->scheduler->set_step(ckpt.scheduler_step());
  }
  ops::Generator::State g;
  for (int i = 0; i < 4; ++i) g.s[i] = ckpt.generator().s(i);
  g.has_cached_normal = ckpt.generator().has_cached_normal();
  g.cached_normal = ckpt.generator().cached_normal();
  ops::default_generator().set_state(g);
  state->epoch = ckpt.epoch();
  state->step = ckpt.step();
  state->metadata.clear();
  for (const auto& [k, v] : ckpt.metadata()) state->metadata[k] = v;
  state->history = std::move(history);
  return absl::OkStatus();
}

}  // namespace tg::io
