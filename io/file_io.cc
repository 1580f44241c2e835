// tapegrad/io/file_io.cc: deterministic serialization and header checks of tapegrad files.
#include "io/file_io.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "io/proto/tapegrad.pb.h"

namespace tg::io {

std::string serialize_deterministic(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::Status save_message(const std::string& path, const google::protobuf::Message& message) {
  return write_file_atomically(path, serialize_deterministic(message));
}

absl::Status load_message(const std::string& path, const std::string& expected_kind,
                          google::protobuf::Message* message) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return parse_message(*bytes, path, expected_kind, message);
}

absl::Status parse_message(const std::string& bytes, const std::string& path, const std::string& expected_kind,
                           google::protobuf::Message* message) {
  if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  proto::FileHeader header;
  if (!header.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(path, ": not a tapegrad file (unparseable header)"));
  }
  if (header.kind() != expected_kind) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a '", header.kind().empty() ? "unknown" : header.kind(),
                                                   "' file, expected a '", expected_kind, "' file"));
  }
  if (header.format_major() > kFormatMajor) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": format version ", header.format_major(), ".",
                                                      header.format_minor(), " (written by ", header.producer(),
                                                      ") is newer than this reader's ", kFormatMajor, ".", kFormatMinor,
                                                      "; upgrade tapegrad"));
  }
  if (!message->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt or truncated ", expected_kind, " file"));
  }
  return absl::OkStatus();
}

}  // namespace tg::io
