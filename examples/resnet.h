// tapegrad/examples/resnet.h: ResNet-8 for 28x28 images (Fashion-MNIST, MNIST): 3x3 conv 16 + BN
// + ReLU, basic blocks 16/32/64 at strides 1/2/2 (1x1 projection shortcuts where the shape
// changes), global average pooling, Linear to the classes. Used by examples/fashion_resnet.cc and
// bench/workload_throughput (examples/pytorch/fashion_resnet.py and
// bench/pytorch_workload_throughput.py build the same network in PyTorch).
#pragma once

#include <memory>

#include "nn/nn.h"

namespace tg::examples {

// `width` multiplies every block's channels (16/32/64 at 1).
std::shared_ptr<nn::Module> make_resnet8(int64_t in_channels = 1, int64_t classes = 10, int64_t width = 1);

}  // namespace tg::examples
