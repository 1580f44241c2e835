// tapegrad/autograd/attributes.h: typed, named op attributes (ints, floats, bools, int lists,
// strings). They are part of every recorded node, so graph export can serialize them.
//   Attrs a{{"dim", int64_t{1}}, {"keepdim", true}};  a.i("dim") == 1
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tg {

using AttrValue = std::variant<int64_t, double, bool, std::vector<int64_t>, std::string>;

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items);

  Attrs& set(const std::string& name, AttrValue value);
  bool has(const std::string& name) const;
  // Typed getters; throw tg::Error naming the attribute if it is missing or of another type.
  int64_t i(const std::string& name) const;
  double f(const std::string& name) const;
  bool b(const std::string& name) const;
  const std::vector<int64_t>& ints(const std::string& name) const;
  const std::string& s(const std::string& name) const;

  // In insertion order.
  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
  std::string to_string() const;  // "dim=1, keepdim=true"

 private:
  const AttrValue& get(const std::string& name) const;
  std::vector<std::pair<std::string, AttrValue>> items_;
};

}  // namespace tg
