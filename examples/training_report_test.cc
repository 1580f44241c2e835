// tapegrad/examples/training_report_test.cc: the SVG plot escapes the title it embeds.
#include "examples/training_report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tg::examples {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(TrainingReport, PlotTitleIsXmlEscaped) {
  const std::string svg = plot_svg("a<b & \"c\" 'd'>", {{1, 0.5, 0.9, 1.0}, {2, 0.25, 0.95, 1.0}});
  EXPECT_THAT(svg, HasSubstr(">a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;</text>"));
  EXPECT_THAT(svg, Not(HasSubstr("a<b")));
  EXPECT_EQ(xml_escaped("plain"), "plain");
}

}  // namespace
}  // namespace tg::examples
