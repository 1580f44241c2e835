#!/usr/bin/env bash
# tapegrad/tools/fuzz/run_fuzz.sh: builds the fuzzers with clang (libFuzzer + ASan + UBSan)
# outside Bazel (whose toolchain is g++): loader_fuzzer (.tgm models, checkpoints), onnx_fuzzer
# (ONNX import, .npy) and data_fuzzer (PNG and JPEG images, CSV); makes their seed corpora of valid
# files and fuzzes each for a bounded time.
# Exits non-zero on any crash, leak or sanitizer report.
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
       -fopenmp -I. -I"$gen" -w -DONNX_ML=1 -DONNX_NAMESPACE=onnx)
sources=(ops/*.cc ops/internal/*.cc autograd/*.cc autograd/functions/*.cc nn/*.cc optim/*.cc
         io/attributes_proto.cc io/file_io.cc io/files.cc io/graph_module.cc io/model_file.cc io/tensor_proto.cc io/trace.cc
         io/checkpoint.cc io/qualified_names.cc io/npy.cc io/onnx_*.cc io/image.cc io/csv.cc "$gen/io/proto/tapegrad.pb.cc")
# The per-ISA kernel sources (cc_multi_isa_library in build_defs.bzl: those that define their
# level's table with TG_ISA_VARIANT) are compiled once per level.
mapfile -t multi_isa_sources < <(grep -l "TG_ISA_VARIANT(" "${sources[@]}" 2>/dev/null)
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
libs=(-lonnx -lonnx_proto -lprotobuf -lopenblas -ldnnl -lz -lpng16 -lturbojpeg -pthread
      $(ls /usr/lib/x86_64-linux-gnu/libabsl_*.so | sed -E 's|.*/lib(absl_[a-z0-9_]+)\.so|-l\1|'))
clang++-14 "${flags[@]}" -fsanitize=fuzzer tools/fuzz/loader_fuzzer.cc "${objects[@]}" "${libs[@]}" -o "$out/loader_fuzzer"
clang++-14 "${flags[@]}" -fsanitize=fuzzer tools/fuzz/onnx_fuzzer.cc "${objects[@]}" "${libs[@]}" -o "$out/onnx_fuzzer"
clang++-14 "${flags[@]}" -fsanitize=fuzzer tools/fuzz/data_fuzzer.cc "${objects[@]}" "${libs[@]}" -o "$out/data_fuzzer"
clang++-14 "${flags[@]}" tools/fuzz/make_seeds.cc "${objects[@]}" "${libs[@]}" -o "$out/make_seeds"
rm -rf "$out/data_corpus" "$out/data_work"
mkdir -p "$out/data_corpus" "$out/data_work"
ASAN_OPTIONS=detect_leaks=1 "$out/make_seeds" "$out/corpus" "$out/data_corpus"
# The ONNX corpus: the conformance suite's models under the fuzzer's length limit, PyTorch's
# exported models and the .npy files beside them.
mkdir -p "$out/onnx_corpus" "$out/onnx_work"
rm -rf "$out/onnx_corpus"/* "$out/onnx_work"/*
for f in /usr/share/libonnx-testdata/data/*/*/model.onnx tests/reference/onnx_models/*/model.onnx; do
  [[ -f "$f" && $(stat -c %s "$f") -le 65536 ]] && cp "$f" "$out/onnx_corpus/$(echo "$f" | tr '/' '_')"
done
for f in tests/reference/onnx_models/*/input.npy; do cp "$f" "$out/onnx_corpus/$(echo "$f" | tr '/' '_')"; done

# fuzz NAME RUNS CORPUS WORK [REGRESSIONS_DIR]: the fixed-seed run (or --seconds), then its verdict.
fuzz() {
  local name=$1 runs=$2 corpus=$3 work=$4 regressions=${5:-}
  # Inputs that once crashed a loader must load cleanly (or be refused) forever.
  if [[ -n "$regressions" && -n "$(ls "$regressions" 2>/dev/null)" ]]; then
    ASAN_OPTIONS=detect_leaks=1 "$out/$name" -runs=0 "$regressions"/* 2>&1 | tail -2
  fi
  local budget
  if [[ -z "$seconds" ]]; then
    budget=(-seed=1 -runs="$runs")
    echo "run_fuzz.sh: $name: $runs runs with seed 1 over $(ls "$corpus" | wc -l) seed files"
  else
    budget=(-max_total_time="$seconds")
    echo "run_fuzz.sh: $name: fuzzing for ${seconds}s over $(ls "$corpus" | wc -l) seed files"
  fi
  # New inputs go to the work directory; the seeds stay as they are.
  OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    "$out/$name" "${budget[@]}" -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
    -timeout=10 -print_final_stats=1 "$work" "$corpus" 2>&1 | grep -v "^\[libprotobuf ERROR" | tail -20
  local status=${PIPESTATUS[0]}
  if [[ $status -ne 0 ]]; then
    echo "run_fuzz.sh: $name found a problem (exit $status); reproducer saved as crash-* in $(pwd)" >&2
    return 1
  fi
  echo "run_fuzz.sh: $name: no crash"
}

fuzz loader_fuzzer 600000 "$out/corpus" "$out/work" tools/fuzz/regressions
fuzz onnx_fuzzer "${ONNX_FUZZ_RUNS:-100000}" "$out/onnx_corpus" "$out/onnx_work" tools/fuzz/regressions_onnx
fuzz data_fuzzer "${DATA_FUZZ_RUNS:-100000}" "$out/data_corpus" "$out/data_work" tools/fuzz/regressions_data
