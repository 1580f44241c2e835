// tapegrad/io/image_folder.h: a labelled image dataset from a folder of class folders, like
// torchvision's ImageFolder: ROOT/CLASS/NAME.png|.jpg|.jpeg, classes in sorted order (label i is
// classes[i]), files in sorted order within each. Every image is decoded into memory (for the
// DataLoader: TensorDataset(folder.images, folder.labels)); all must have one size and are
// converted to one channel count. Other files (other extensions, hidden files) are skipped.
//   auto folder = tg::io::load_image_folder("data/shapes");   // absl::StatusOr<ImageFolder>
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "autograd/tensor.h"
#include "io/image.h"

namespace tg::io {

struct ImageFolder {
  std::vector<std::string> classes;  // the class folders' names, sorted
  std::vector<std::string> files;    // each example's path
  Tensor images;                     // float32 [N, C, H, W] in [0, 1]
  Tensor labels;                     // int64 [N]
};

struct ImageFolderOptions {
  // 0: the channel count of the first image (1 or 3), every other image converted to it.
  int channels = 0;
  int64_t max_images = int64_t{1} << 20;
  ImageReadOptions image;  // per image (its channels field is set from `channels`)
};

// Errors name the folder or file at fault: no class folders, a class without images, an image
// that does not decode, an image of another size than the first.
absl::StatusOr<ImageFolder> load_image_folder(const std::string& root, const ImageFolderOptions& options = {});

}  // namespace tg::io
