// tapegrad/nn/nn.h: every nn module in one include.
#pragma once

#include "nn/activation.h"
#include "nn/attention.h"
#include "nn/conv.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "nn/rnn.h"
#include "nn/sequential.h"
#include "nn/transformer.h"
