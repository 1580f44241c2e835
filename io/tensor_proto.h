// tapegrad/io/tensor_proto.h: tg::Tensor <-> TensorProto. Decoding validates dtype, dims and the
// byte count against the shape before allocating, and names the field at fault.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "autograd/tensor.h"
#include "io/proto/tapegrad.pb.h"

namespace tg::io {

proto::TensorProto to_proto(const Tensor& t);
// `field` names the message being decoded in errors, e.g. "graph.parameters[3] (conv.weight)".
absl::StatusOr<Tensor> from_proto(const proto::TensorProto& p, const std::string& field);

proto::DataType to_proto(DType dtype);
absl::StatusOr<DType> from_proto(proto::DataType dtype, const std::string& field);

using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;

// Named tensors, in the given order (callers pass a deterministic order: registration order or
// sorted by name).
void to_proto(const NamedTensorList& tensors, google::protobuf::RepeatedPtrField<proto::NamedTensor>* out);
void to_proto(const std::map<std::string, Tensor>& tensors,
              google::protobuf::RepeatedPtrField<proto::NamedTensor>* out);
// In file order; rejects empty and duplicate names.
absl::StatusOr<NamedTensorList> from_proto(const google::protobuf::RepeatedPtrField<proto::NamedTensor>& named,
                                           const std::string& field);

}  // namespace tg::io
