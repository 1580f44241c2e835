// tapegrad/io/graph_dot.h: a graph in Graphviz DOT syntax (`tapegrad dot`). Every name and op
// type is written as an escaped DOT string, so a file's names cannot break the output.
#pragma once

#include <string>

#include "io/proto/tapegrad.pb.h"

namespace tg::io {

std::string graph_to_dot(const proto::GraphProto& graph);

}  // namespace tg::io
