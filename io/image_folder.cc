// tapegrad/io/image_folder.cc: scanning ROOT/CLASS/ for images and decoding them into one tensor.
#include "io/image_folder.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tg::io {

namespace {

bool is_image_name(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.empty() || name[0] == '.') return false;
  const std::string ext = absl::AsciiStrToLower(path.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// The sorted entries of `dir` that pass `keep`.
std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& dir, bool directories,
                                                  std::error_code& error) {
  std::vector<std::filesystem::path> out;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const bool is_dir = it->is_directory(error);
    if (error) break;
    if (directories ? (is_dir && it->path().filename().string()[0] != '.')
                    : (!is_dir && is_image_name(it->path()))) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

absl::StatusOr<ImageFolder> load_image_folder(const std::string& root, const ImageFolderOptions& options) {
  if (options.channels != 0 && options.channels != 1 && options.channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat("load_image_folder: channels must be 0, 1 or 3, got ",
                                                   options.channels));
  }
  std::error_code error;
  const std::vector<std::filesystem::path> class_dirs = sorted_entries(root, /*directories=*/true, error);
  if (error) return absl::NotFoundError(absl::StrCat(root, ": cannot list the folder: ", error.message()));
  if (class_dirs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(root, ": no class folders (expected ", root, "/CLASS/IMAGE.png)"));
  }
  ImageFolder folder;
  std::vector<int64_t> labels;
  for (size_t c = 0; c < class_dirs.size(); ++c) {
    std::vector<std::filesystem::path> files = sorted_entries(class_dirs[c], /*directories=*/false, error);
    if (error) return absl::NotFoundError(absl::StrCat(class_dirs[c].string(), ": cannot list: ", error.message()));
    if (files.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(class_dirs[c].string(), ": class '", class_dirs[c].filename().string(),
                       "' has no .png, .jpg or .jpeg images"));
    }
    folder.classes.push_back(class_dirs[c].filename().string());
    for (auto& f : files) {
      folder.files.push_back(f.string());
      labels.push_back(static_cast<int64_t>(c));
    }
    if (static_cast<int64_t>(folder.files.size()) > options.max_images) {
      return absl::InvalidArgumentError(absl::StrCat(root, ": more than ", options.max_images,
                                                     " images (ImageFolderOptions::max_images)"));
    }
  }
  ImageReadOptions read = options.image;
  read.channels = options.channels;
  ops::Array images;
  Shape first;
  for (size_t i = 0; i < folder.files.size(); ++i) {
    auto image = read_image(folder.files[i], read);
    if (!image.ok()) return image.status();
    if (i == 0) {
      first = image->shape();
      read.channels = static_cast<int>(first[0]);  // the rest follow the first image
      const int64_t bytes_per_image = first[0] * first[1] * first[2] * 4;
      if (bytes_per_image * static_cast<int64_t>(folder.files.size()) > (int64_t{1} << 34)) {
        return absl::InvalidArgumentError(absl::StrCat(root, ": ", folder.files.size(), " images of ",
                                                       shape_str(first), " exceed 16 GiB as float32"));
      }
      images = ops::Array::empty({static_cast<int64_t>(folder.files.size()), first[0], first[1], first[2]}, kFloat32);
    } else if (image->shape() != first) {
      return absl::InvalidArgumentError(absl::StrCat(
          folder.files[i], ": ", image->size(2), "x", image->size(1), " pixels, but ", folder.files[0], " has ",
          first[2], "x", first[1], " (every image of the folder must have one size)"));
    }
    const int64_t n = image->numel();
    std::memcpy(images.data<float>() + i * n, image->data().contiguous().data<float>(), n * sizeof(float));
  }
  folder.images = Tensor(images);
  folder.labels = Tensor(ops::Array::from_vector(labels, {static_cast<int64_t>(labels.size())}));
  return folder;
}

}  // namespace tg::io
