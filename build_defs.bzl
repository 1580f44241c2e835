# tapegrad/build_defs.bzl: the C++ rules every tapegrad BUILD file uses. They are the native rules
# plus the options tapegrad's code needs to be correct and fast, so the options travel with the
# targets: a project that depends on @tapegrad builds it exactly as tapegrad's own build does,
# whatever its .bazelrc says (a dependency's .bazelrc never applies).
#   load("//:build_defs.bzl", "cc_library", "cc_test")
#
# -std=c++20: designated initializers, concepts-free templates, std::span (public headers check
#   it too: autograd/tensor.h refuses an older standard with a clear error).
# -O3: GCC 12 vectorizes loops only at -O3 (its -O2 cost model refuses any loop that needs an
#   alias check or a remainder, which is every elementwise kernel and the optimizers' updates);
#   measured with bench/mnist_throughput, 1 thread: cnn_small training +10-30 %, cnn_wide +20 %
#   over -O2. Not in dbg builds (the sanitizer configs), which keep their -O1.
# -fno-math-errno: lets sqrt/exp vectorize (nothing here reads errno).
# -fopenmp: the kernels' parallel loops (without it they run on one thread, silently).
# The ISA is not set here: see .bazelrc (-march) and the README.

TAPEGRAD_COPTS = ["-std=c++20", "-fopenmp"] + select({
    "//:dbg_build": [],
    "//conditions:default": ["-O3", "-fno-math-errno"],
})
TAPEGRAD_LINKOPTS = ["-fopenmp"]

def cc_library(name, copts = [], linkopts = [], **kwargs):
    native.cc_library(name = name, copts = TAPEGRAD_COPTS + copts, linkopts = TAPEGRAD_LINKOPTS + linkopts, **kwargs)

def cc_test(name, copts = [], linkopts = [], **kwargs):
    native.cc_test(name = name, copts = TAPEGRAD_COPTS + copts, linkopts = TAPEGRAD_LINKOPTS + linkopts, **kwargs)

def cc_binary(name, copts = [], linkopts = [], **kwargs):
    native.cc_binary(name = name, copts = TAPEGRAD_COPTS + copts, linkopts = TAPEGRAD_LINKOPTS + linkopts, **kwargs)
