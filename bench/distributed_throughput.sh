#!/usr/bin/env bash
# tapegrad/bench/distributed_throughput.sh [ARCH] [IMAGES]: data-parallel training speed on this
# machine. Trains one epoch of ARCH (default cnn_small) on the first IMAGES (default 10000) MNIST
# training images with `mnist_cnn --distributed` under mpirun with 1 and then 2 ranks (the cores
# shared evenly among the ranks), and prints for each:
#   ranks R train_images_per_s X sync_seconds Y
# (sync_seconds: time in gradient synchronization). Run from the repository root after
# tools/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-cnn_small} images=${2:-10000}
bazel build -c opt //examples:mnist_cnn >/dev/null 2>&1
for ranks in 1 2; do
  out=$(bash distributed/mpirun.sh "$ranks" bazel-bin/examples/mnist_cnn --distributed --arch="$arch" \
          --train_limit="$images" --test_limit=100 --data_dir=data/mnist | tr '\r' '\n')
  seconds=$(sed -n 's/.*train_loss .* seconds \([0-9.]*\)$/\1/p' <<< "$out")
  sync=$(sed -n 's/.*gradient synchronization \([0-9.]*\) s.*/\1/p' <<< "$out")
  awk -v r="$ranks" -v n="$images" -v s="$seconds" -v y="$sync" \
    'BEGIN { printf "ranks %d train_images_per_s %.0f sync_seconds %s\n", r, n / s, y }'
done
