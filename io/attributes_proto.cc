// tapegrad/io/attributes_proto.cc: attribute encoding.
#include "io/attributes_proto.h"

#include "absl/strings/str_cat.h"

namespace tg::io {

void to_proto(const Attrs& attrs, google::protobuf::RepeatedPtrField<proto::AttributeProto>* out) {
  for (const auto& [name, value] : attrs.items()) {
    proto::AttributeProto* a = out->Add();
    a->set_name(name);
    std::visit(
        [a](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, int64_t>) a->set_i(v);
          if constexpr (std::is_same_v<V, double>) a->set_f(v);
          if constexpr (std::is_same_v<V, bool>) a->set_b(v);
          if constexpr (std::is_same_v<V, std::string>) a->set_s(v);
          if constexpr (std::is_same_v<V, std::vector<int64_t>>) {
            proto::IntList* list = a->mutable_ints();  // set even when empty (a reshape to a 0-d shape)
            for (int64_t x : v) list->add_values(x);
          }
        },
        value);
  }
}

absl::StatusOr<Attrs> from_proto(const google::protobuf::RepeatedPtrField<proto::AttributeProto>& attrs,
                                 const std::string& field) {
  Attrs out;
  for (int i = 0; i < attrs.size(); ++i) {
    const proto::AttributeProto& a = attrs[i];
    const std::string where = absl::StrCat(field, ".attributes[", i, "] (", a.name(), ")");
    if (a.name().empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": empty name"));
    if (out.has(a.name())) return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate attribute"));
    switch (a.value_case()) {
      case proto::AttributeProto::kI: out.set(a.name(), a.i()); break;
      case proto::AttributeProto::kF: out.set(a.name(), a.f()); break;
      case proto::AttributeProto::kB: out.set(a.name(), a.b()); break;
      case proto::AttributeProto::kS: out.set(a.name(), a.s()); break;
      case proto::AttributeProto::kInts:
        out.set(a.name(), std::vector<int64_t>(a.ints().values().begin(), a.ints().values().end()));
        break;
      default: return absl::InvalidArgumentError(absl::StrCat(where, ": no value"));
    }
  }
  return out;
}

}  // namespace tg::io
