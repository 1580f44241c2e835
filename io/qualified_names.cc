// tapegrad/io/qualified_names.cc: dotted-name registration (see the header).
#include "io/qualified_names.h"

#include <memory>

namespace tg::io {

namespace {

// An empty container so dotted names rebuild the original module tree.
class Container : public nn::Module {
 public:
  Container() : Module("Module") {}
};

// The submodule `name` of `parent`, created as a Container when it does not exist yet.
nn::Module& child_module(nn::Module& parent, const std::string& name) {
  for (auto& [n, m] : parent.named_children())
    if (n == name) return *m;
  return *parent.register_module(name, std::make_shared<Container>());
}

}  // namespace

std::vector<std::string> split_qualified_name(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

Tensor register_qualified(nn::Module& root, const std::string& qualified, const Tensor& t, bool parameter) {
  const std::vector<std::string> parts = split_qualified_name(qualified);
  nn::Module* owner = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) owner = &child_module(*owner, parts[i]);
  return parameter ? owner->register_parameter(parts.back(), t) : owner->register_buffer(parts.back(), t);
}

}  // namespace tg::io
