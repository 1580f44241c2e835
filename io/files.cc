// tapegrad/io/files.cc: bounded reads and atomic writes.
#include "io/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace tg::io {

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

absl::StatusOr<std::string> read_file(const std::string& path, int64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": cannot open (", errno_text(), ")"));
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = errno_text();
      ::close(fd);
      return absl::DataLossError(absl::StrCat(path, ": read failed (", err, ")"));
    }
    if (n == 0) break;
    out.append(buf, n);
    if (static_cast<int64_t>(out.size()) > max_bytes) {
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
    }
  }
  ::close(fd);
  return out;
}

absl::Status write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / absl::StrCat(".", target.filename().string(), ".tmp.XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot create a temporary file in ", dir.string(), " (", errno_text(), ")"));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string err = errno_text();
      ::close(fd);
      ::unlink(tmpl.c_str());
      return absl::DataLossError(absl::StrCat(path, ": write failed (", err, "); previous file left intact"));
    }
    written += n;
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    const std::string err = errno_text();
    ::close(fd);
    ::unlink(tmpl.c_str());
    return absl::DataLossError(absl::StrCat(path, ": fsync failed (", err, "); previous file left intact"));
  }
  ::close(fd);
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    const std::string err = errno_text();
    ::unlink(tmpl.c_str());
    return absl::DataLossError(absl::StrCat(path, ": rename failed (", err, "); previous file left intact"));
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // make the rename itself durable
    ::close(dfd);
  }
  return absl::OkStatus();
}

}  // namespace tg::io
