// tapegrad/io/attributes_proto.h: tg::Attrs <-> repeated AttributeProto.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "autograd/attributes.h"
#include "io/proto/tapegrad.pb.h"

namespace tg::io {

void to_proto(const Attrs& attrs, google::protobuf::RepeatedPtrField<proto::AttributeProto>* out);
absl::StatusOr<Attrs> from_proto(const google::protobuf::RepeatedPtrField<proto::AttributeProto>& attrs,
                                 const std::string& field);

}  // namespace tg::io
