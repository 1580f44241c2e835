// tapegrad/io/graph_dot.cc: see graph_dot.h.
#include "io/graph_dot.h"

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tg::io {

namespace {
// A DOT string literal: quotes, backslashes and control characters escaped.
std::string quoted(const std::string& text) { return absl::StrCat("\"", absl::CEscape(text), "\""); }
}  // namespace

std::string graph_to_dot(const proto::GraphProto& g) {
  std::set<std::string> tensors;
  for (const auto* group : {&g.parameters(), &g.buffers(), &g.constants()})
    for (const auto& t : *group) tensors.insert(t.name());
  std::string out = "digraph tapegrad {\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n";
  for (const auto& v : g.inputs()) absl::StrAppend(&out, "  ", quoted(v.name()), " [shape=ellipse];\n");
  for (const auto& n : g.nodes()) {
    absl::StrAppend(&out, "  ", quoted(n.output()), " [label=", quoted(n.op()), "];\n");
    for (const auto& in : n.inputs()) {
      if (in.empty()) continue;
      if (tensors.count(in)) absl::StrAppend(&out, "  ", quoted(in), " [shape=note, fontsize=9];\n");
      absl::StrAppend(&out, "  ", quoted(in), " -> ", quoted(n.output()), ";\n");
    }
  }
  for (const auto& v : g.outputs()) absl::StrAppend(&out, "  ", quoted(v.name()), " -> output;\n");
  return out + "}\n";
}

}  // namespace tg::io
