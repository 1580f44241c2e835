// tapegrad/optim/optim.h: every optimizer and scheduler in one include.
#pragma once

#include "optim/adam.h"
#include "optim/adaptive.h"
#include "optim/lbfgs.h"
#include "optim/lr_scheduler.h"
#include "optim/lr_scheduler_chain.h"
#include "optim/optimizer.h"
#include "optim/reduce_lr_on_plateau.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
