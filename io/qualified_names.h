// tapegrad/io/qualified_names.h: registering a tensor under a dotted name ("layer1.0.conv.weight")
// on a module with no C++ class: the missing submodules along the path are created as empty
// containers, so named_parameters() gives back the original names (loaded .tgm and ONNX graphs).
#pragma once

#include <string>
#include <vector>

#include "nn/module.h"

namespace tg::io {

std::vector<std::string> split_qualified_name(const std::string& name);  // "a.b" -> {"a", "b"}
// Throws tg::Error for an invalid name or one that clashes with an existing entry.
Tensor register_qualified(nn::Module& root, const std::string& qualified, const Tensor& t, bool parameter);

}  // namespace tg::io
