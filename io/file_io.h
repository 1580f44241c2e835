// tapegrad/io/file_io.h: tapegrad's protobuf files: deterministic serialization, atomic saves
// (io/files.h) and the FileHeader check every loader runs first.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "io/files.h"
#include "ops/version.h"

namespace tg::io {

inline constexpr uint32_t kFormatMajor = 1;
inline constexpr uint32_t kFormatMinor = 2;  // 1.1: NodeProto.output_dtype; 1.2: CheckpointProto.scheduler_state
inline const std::string kProducer = std::string("tapegrad ") + version();  // written into every file

// Serializes deterministically (sorted map entries): the same message gives the same bytes.
std::string serialize_deterministic(const google::protobuf::Message& message);
absl::Status save_message(const std::string& path, const google::protobuf::Message& message);
// Reads `path`, checks its header (kind, format version) and parses it into `message`.
absl::Status load_message(const std::string& path, const std::string& expected_kind,
                          google::protobuf::Message* message);
// The same on bytes already in memory; `source` names them in errors.
absl::Status parse_message(const std::string& bytes, const std::string& source, const std::string& expected_kind,
                           google::protobuf::Message* message);

}  // namespace tg::io
