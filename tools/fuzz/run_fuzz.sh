#!/usr/bin/env bash
# tapegrad/tools/fuzz/run_fuzz.sh: builds the loader fuzzer with clang (libFuzzer + ASan + UBSan)
# outside Bazel (whose toolchain is g++), makes a seed corpus of valid files, and fuzzes for a
# bounded time. Exits non-zero on any crash, leak or sanitizer report.
#   bash tools/fuzz/run_fuzz.sh [SECONDS]      (default 60)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-}
out=bazel-fuzz  # git-ignored (bazel-*)
rm -rf "$out/corpus" "$out/work"
# Objects are reused while their source is older (below) and no header changed since the last build.
if [[ -d "$out/obj" && -n "$(find ops autograd nn optim io -name '*.h' -newer "$out/obj" -print -quit)" ]]; then
  rm -rf "$out/obj"
fi
mkdir -p "$out/obj" "$out/corpus" "$out/work"

# The protobuf sources come from the same genrule Bazel uses.
bazel build //io/proto:tapegrad_proto_cc >/dev/null 2>&1
gen=$(bazel info bazel-genfiles 2>/dev/null)

flags=(-std=c++20 -O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -fopenmp -I. -I"$gen" -w)
sources=(ops/*.cc ops/internal/*.cc autograd/*.cc autograd/functions/*.cc nn/*.cc optim/*.cc
         io/attributes_proto.cc io/file_io.cc io/files.cc io/graph_module.cc io/model_file.cc io/tensor_proto.cc io/trace.cc
         io/checkpoint.cc "$gen/io/proto/tapegrad.pb.cc")
# The per-ISA kernel sources (cc_multi_isa_library in build_defs.bzl) are compiled once per level.
multi_isa_sources=(ops/internal/vector_kernels.cc optim/update_kernels.cc)
isa_levels=("baseline 0 x86-64-v2" "avx2 1 x86-64-v3" "avx512 2 x86-64-v4")
objects=()
compile() {  # compile SRC OBJ EXTRA_FLAGS...: in the background, 2 at a time, when out of date
  local src=$1 obj=$2; shift 2
  objects+=("$obj")
  if [[ ! -f "$obj" || "$src" -nt "$obj" ]]; then
    clang++-14 "${flags[@]}" "$@" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
    while (( $(jobs -r | wc -l) >= 2 )); do wait -n; done
  fi
}
for src in "${sources[@]}"; do
  [[ "$src" == *_test.cc ]] && continue
  obj="$out/obj/$(echo "$src" | tr '/' '_' ).o"
  if [[ " ${multi_isa_sources[*]} " == *" $src "* ]]; then
    for level in "${isa_levels[@]}"; do
      read -r suffix number march <<< "$level"
      compile "$src" "${obj%.o}_$suffix.o" -march="$march" -DTG_ISA_SUFFIX="$suffix" -DTG_ISA_LEVEL="$number"
    done
  else
    compile "$src" "$obj"
  fi
done
wait
touch "$out/obj"
libs=(-lprotobuf -lopenblas -ldnnl -lz -pthread
      $(ls /usr/lib/x86_64-linux-gnu/libabsl_*.so | sed -E 's|.*/lib(absl_[a-z0-9_]+)\.so|-l\1|'))
clang++-14 "${flags[@]}" -fsanitize=fuzzer tools/fuzz/loader_fuzzer.cc "${objects[@]}" "${libs[@]}" -o "$out/loader_fuzzer"
clang++-14 "${flags[@]}" tools/fuzz/make_seeds.cc "${objects[@]}" "${libs[@]}" -o "$out/make_seeds"
ASAN_OPTIONS=detect_leaks=1 "$out/make_seeds" "$out/corpus"

# Inputs that once crashed a loader must load cleanly (or be refused) forever.
ASAN_OPTIONS=detect_leaks=1 "$out/loader_fuzzer" -runs=0 tools/fuzz/regressions/* 2>&1 | tail -2

if [[ -z "$seconds" ]]; then
  budget=(-seed=1 -runs=600000)
  echo "run_fuzz.sh: 600,000 runs with seed 1 over $(ls "$out/corpus" | wc -l) seed files"
else
  budget=(-max_total_time="$seconds")
  echo "run_fuzz.sh: fuzzing for ${seconds}s over $(ls "$out/corpus" | wc -l) seed files"
fi
# New inputs go to $out/work; the seeds stay as they are.
OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
  "$out/loader_fuzzer" "${budget[@]}" -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
  -timeout=10 -print_final_stats=1 "$out/work" "$out/corpus" 2>&1 | grep -v "^\[libprotobuf ERROR" | tail -20
status=${PIPESTATUS[0]}
if [[ $status -ne 0 ]]; then
  echo "run_fuzz.sh: the fuzzer found a problem (exit $status); reproducer saved as crash-* in $(pwd)" >&2
  exit 1
fi
echo "run_fuzz.sh: no crash"
