// tapegrad/io/graph_dot_test.cc: DOT output escapes the names it embeds.
#include "io/graph_dot.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tg::io {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(GraphDot, NamesWithQuotesBackslashesAndNewlinesAreEscaped) {
  proto::GraphProto g;
  g.add_inputs()->set_name("in\"put");
  proto::NodeProto* n = g.add_nodes();
  n->set_op("relu");
  n->add_inputs("in\"put");
  n->set_output("v\\1\n];evil");
  g.add_outputs()->set_name("v\\1\n];evil");
  const std::string dot = graph_to_dot(g);
  EXPECT_THAT(dot, HasSubstr("\"in\\\"put\" [shape=ellipse];"));
  EXPECT_THAT(dot, HasSubstr("\"v\\\\1\\n];evil\" [label=\"relu\"];"));
  EXPECT_THAT(dot, HasSubstr("\"in\\\"put\" -> \"v\\\\1\\n];evil\";"));
  EXPECT_THAT(dot, Not(HasSubstr("\n];evil")));  // the raw newline never reaches the output
}

}  // namespace
}  // namespace tg::io
