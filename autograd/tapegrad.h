// tapegrad/autograd/tapegrad.h: the one header a training loop includes for tensors and autograd.
#pragma once

#include "autograd/anomaly_mode.h"
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/functions.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/gradient_tape.h"
#include "autograd/indexing.h"
#include "autograd/tensor.h"
#include "ops/backend.h"
#include "ops/parallel.h"
#include "ops/version.h"
