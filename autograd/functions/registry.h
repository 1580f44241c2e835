// tapegrad/autograd/functions/registry.h: each op family registers its rows here (called once
// when the op table is first used).
#pragma once

namespace tg::internal {

void register_elementwise_ops();
void register_reduce_ops();
void register_linalg_ops();
void register_shape_ops();
void register_index_ops();
void register_conv_ops();
void register_pool_ops();
void register_activation_ops();
void register_norm_ops();
void register_loss_ops();

inline void register_all_ops() {
  register_elementwise_ops();
  register_reduce_ops();
  register_linalg_ops();
  register_shape_ops();
  register_index_ops();
  register_conv_ops();
  register_pool_ops();
  register_activation_ops();
  register_norm_ops();
  register_loss_ops();
}

}  // namespace tg::internal
