// tapegrad/optim/optim.h: every optimizer and scheduler in one include.
#pragma once

#include "optim/adam.h"
#include "optim/adaptive.h"
#include "optim/lr_scheduler.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
