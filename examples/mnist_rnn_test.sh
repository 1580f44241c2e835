#!/usr/bin/env bash
# tapegrad/examples/mnist_rnn_test.sh: mnist_rnn on the first 3,000 MNIST training images for 2
# epochs learns to read digits row by row: test accuracy on 1,000 images >= 0.7 (chance: 0.1; it reaches 0.80).
set -euo pipefail
mnist_rnn=$1
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
"$mnist_rnn" --data_dir=data/mnist --epochs=2 --train_limit=3000 --test_limit=1000 | tee "$TEST_TMPDIR/out" | grep -v batch
accuracy=$(awk '$1 == "test_accuracy" {print $2}' "$TEST_TMPDIR/out")
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.7) }' || { echo "FAIL: test accuracy $accuracy < 0.7" >&2; exit 1; }
echo "mnist_rnn_test: test accuracy $accuracy"
