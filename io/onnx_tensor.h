// tapegrad/io/onnx_tensor.h: ONNX TensorProto <-> tg::Tensor, validated before any memory is
// touched (element type, dims, byte or element counts, external data refused). tapegrad computes
// in float32, float64, int64 and bool: every narrower integer type (int8..int32, uint8..uint32)
// widens to int64 without loss; float16, bfloat16, uint64, strings and complex are refused.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "autograd/tensor.h"
#include "onnx/onnx_pb.h"

namespace tg::io {

// The tapegrad dtype an ONNX element type is computed in, or an error naming `field`.
absl::StatusOr<DType> dtype_from_onnx(int elem_type, const std::string& field);
// ONNX's name of an element type ("FLOAT", "INT32", ...), for messages.
std::string onnx_type_name(int elem_type);

// Tensors larger than max_bytes (after widening) are refused.
absl::StatusOr<Tensor> tensor_from_onnx(const onnx::TensorProto& t, const std::string& field,
                                        int64_t max_bytes = int64_t{1} << 32);
onnx::TensorProto tensor_to_onnx(const Tensor& t, const std::string& name);

}  // namespace tg::io
