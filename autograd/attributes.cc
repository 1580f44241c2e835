// tapegrad/autograd/attributes.cc: attribute storage and typed access.
#include "autograd/attributes.h"

#include "absl/strings/str_join.h"
#include "ops/error.h"

namespace tg {

Attrs::Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items) {
  for (const auto& [name, value] : items) set(name, value);
}

Attrs& Attrs::set(const std::string& name, AttrValue value) {
  for (auto& item : items_) {
    if (item.first == name) {
      item.second = std::move(value);
      return *this;
    }
  }
  items_.emplace_back(name, std::move(value));
  return *this;
}

bool Attrs::has(const std::string& name) const {
  for (const auto& item : items_)
    if (item.first == name) return true;
  return false;
}

const AttrValue& Attrs::get(const std::string& name) const {
  for (const auto& item : items_)
    if (item.first == name) return item.second;
  throw Error(absl::StrCat("attribute '", name, "' is missing (have: ", to_string(), ")"));
}

template <typename T>
static const T& typed(const AttrValue& v, const std::string& name, const char* type) {
  const T* p = std::get_if<T>(&v);
  TG_CHECK(p != nullptr, "attribute '", name, "' is not of type ", type);
  return *p;
}

int64_t Attrs::i(const std::string& name) const { return typed<int64_t>(get(name), name, "int"); }
double Attrs::f(const std::string& name) const { return typed<double>(get(name), name, "float"); }
bool Attrs::b(const std::string& name) const { return typed<bool>(get(name), name, "bool"); }
const std::vector<int64_t>& Attrs::ints(const std::string& name) const {
  return typed<std::vector<int64_t>>(get(name), name, "int list");
}
const std::string& Attrs::s(const std::string& name) const { return typed<std::string>(get(name), name, "string"); }

std::string Attrs::to_string() const {
  return absl::StrJoin(items_, ", ", [](std::string* out, const auto& item) {
    absl::StrAppend(out, item.first, "=");
    std::visit(
        [out](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::vector<int64_t>>) {
            absl::StrAppend(out, "[", absl::StrJoin(v, ","), "]");
          } else if constexpr (std::is_same_v<V, bool>) {
            absl::StrAppend(out, v ? "true" : "false");
          } else {
            absl::StrAppend(out, v);
          }
        },
        item.second);
  });
}

}  // namespace tg
