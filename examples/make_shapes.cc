// tapegrad/examples/make_shapes.cc: writes a small image-folder dataset for custom_dataset:
// DIR/circle, DIR/square, DIR/triangle, N PNG images each (24x24 RGB: a shape of random color,
// size and place on a noisy background that differs from it by 0.35-0.6 in every channel).
// Seeded, so the same files every time.
//   bazel run //examples:make_shapes -- --dir=$PWD/data/shapes
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "autograd/tapegrad.h"
#include "io/image.h"

ABSL_FLAG(std::string, dir, "", "the folder to write (its class folders are created)");
ABSL_FLAG(int, per_class, 300, "images per class");
ABSL_FLAG(uint64_t, seed, 0, "seed of colors, sizes and places");

namespace {

constexpr int kSize = 24;
const char* const kClasses[] = {"circle", "square", "triangle"};

// Whether pixel (x, y) lies inside shape k centered at (cx, cy) with half-size r.
bool inside(int k, double x, double y, double cx, double cy, double r) {
  const double dx = x - cx, dy = y - cy;
  if (k == 0) return dx * dx + dy * dy <= r * r;
  if (k == 1) return std::fabs(dx) <= r * 0.85 && std::fabs(dy) <= r * 0.85;
  return dy <= r * 0.8 && dy >= -r && std::fabs(dx) <= (dy + r) * 0.6;  // apex up
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("make_shapes --dir=DIR [--per_class=N]: an image folder of circles, squares, triangles");
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_dir);
  const int per_class = absl::GetFlag(FLAGS_per_class);
  if (dir.empty() || per_class <= 0) {
    std::fprintf(stderr, "make_shapes: --dir is required and --per_class must be positive\n");
    return 2;
  }
  tg::ops::Generator gen(absl::GetFlag(FLAGS_seed));
  for (int k = 0; k < 3; ++k) {
    const std::string folder = dir + "/" + kClasses[k];
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error) {
      std::fprintf(stderr, "make_shapes: cannot create %s: %s\n", folder.c_str(), error.message().c_str());
      return 1;
    }
    for (int i = 0; i < per_class; ++i) {
      const double r = 5 + 4 * gen.uniform(), cx = r + (kSize - 2 * r) * gen.uniform(), cy = r + (kSize - 2 * r) * gen.uniform();
      double fg[3], bg[3];
      for (int c = 0; c < 3; ++c) {  // the shape stands out from the background in every channel
        bg[c] = gen.uniform();
        const double contrast = 0.35 + 0.25 * gen.uniform();
        fg[c] = bg[c] > 0.5 ? bg[c] - contrast : bg[c] + contrast;
      }
      std::vector<float> pixels(3 * kSize * kSize);
      for (int y = 0; y < kSize; ++y) {
        for (int x = 0; x < kSize; ++x) {
          const bool in = inside(k, x + 0.5, y + 0.5, cx, cy, r);
          for (int c = 0; c < 3; ++c) {
            const double noise = 0.1 * (gen.uniform() - 0.5);
            pixels[(c * kSize + y) * kSize + x] = static_cast<float>(std::clamp((in ? fg[c] : bg[c]) + noise, 0.0, 1.0));
          }
        }
      }
      char name[32];
      std::snprintf(name, sizeof name, "/%04d.png", i);
      const absl::Status s = tg::io::save_png(tg::tensor(pixels, {3, kSize, kSize}), folder + name);
      if (!s.ok()) {
        std::fprintf(stderr, "make_shapes: %s\n", std::string(s.message()).c_str());
        return 1;
      }
    }
  }
  std::printf("wrote %d images in 3 classes to %s\n", 3 * per_class, dir.c_str());
  return 0;
}
