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
# -march=x86-64-v2: the portable default (Note [Portable binaries] in ops/cpu_isa.h); the hot loops
#   are compiled for higher levels too (cc_multi_isa_library below) and chosen at run time.
#   --config=native (--define=tapegrad_march=native) builds for the build machine instead.

TAPEGRAD_COPTS = ["-std=c++20", "-fopenmp"] + select({
    "//:dbg_build": [],
    "//conditions:default": ["-O3", "-fno-math-errno"],
}) + select({
    "//:native_march": ["-march=native"],
    "//conditions:default": ["-march=x86-64-v2"],
})
TAPEGRAD_LINKOPTS = ["-fopenmp"]

def cc_library(name, copts = [], linkopts = [], **kwargs):
    native.cc_library(name = name, copts = TAPEGRAD_COPTS + copts, linkopts = TAPEGRAD_LINKOPTS + linkopts, **kwargs)

def cc_test(name, copts = [], linkopts = [], **kwargs):
    native.cc_test(name = name, copts = TAPEGRAD_COPTS + copts, linkopts = TAPEGRAD_LINKOPTS + linkopts, **kwargs)

def cc_binary(name, copts = [], linkopts = [], **kwargs):
    native.cc_binary(name = name, copts = TAPEGRAD_COPTS + copts, linkopts = TAPEGRAD_LINKOPTS + linkopts, **kwargs)

# The ISA levels of cc_multi_isa_library: (suffix, CpuIsa value, -march). ops/cpu_isa.h.
TAPEGRAD_ISA_LEVELS = [
    ("baseline", 0, "x86-64-v2"),
    ("avx2", 1, "x86-64-v3"),
    ("avx512", 2, "x86-64-v4"),
]

def cc_multi_isa_library(name, srcs, hdrs = [], deps = [], copts = [], visibility = None, **kwargs):
    """Compiles srcs once per ISA level (name_baseline, name_avx2, name_avx512), each with its
    -march and TG_ISA_SUFFIX / TG_ISA_LEVEL defined; each source defines its level's kernel table
    (TG_ISA_VARIANT in ops/cpu_isa.h) and callers pick one at run time. name is hdrs plus all
    levels."""
    levels = []
    for suffix, level, march in TAPEGRAD_ISA_LEVELS:
        cc_library(
            name = name + "_" + suffix,
            srcs = srcs,
            copts = ["-march=" + march] + copts,
            local_defines = ["TG_ISA_SUFFIX=" + suffix, "TG_ISA_LEVEL=%d" % level],
            deps = [name + "_interface"] + deps,
            visibility = ["//visibility:private"],
            **kwargs
        )
        levels.append(":" + name + "_" + suffix)
    cc_library(name = name + "_interface", hdrs = hdrs, deps = deps, visibility = ["//visibility:private"])
    cc_library(name = name, deps = [name + "_interface"] + levels, visibility = visibility)
