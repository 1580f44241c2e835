#!/usr/bin/env bash
# tapegrad/tests/distributed_mnist_test.sh: mnist_cnn --distributed under mpirun -np 2 against a
# single process with the same global batch (2 epochs on 3,000 images): weights are bit-identical
# on both ranks after every epoch (mnist_cnn checks and prints it), rank 0 alone writes the
# checkpoint, both ranks resume from it, and the final accuracy matches the single process within
# 0.01 (they differ only by float rounding in the gradient average).
set -euo pipefail
mpirun_sh=$1 mnist_cnn=$2
if ! command -v mpirun >/dev/null; then
  echo "SKIPPED: mpirun not found (install openmpi-bin: bash tools/setup.sh)" >&2
  exit 0
fi
args=(--arch=cnn_small --train_limit=3000 --test_limit=1000 --data_dir=data/mnist --threads=1)
"$mnist_cnn" "${args[@]}" --epochs=2 > "$TEST_TMPDIR/single.log"
"$mpirun_sh" 2 "$mnist_cnn" "${args[@]}" --distributed --epochs=1 --checkpoint="$TEST_TMPDIR/ck" > "$TEST_TMPDIR/d1.log"
"$mpirun_sh" 2 "$mnist_cnn" "${args[@]}" --distributed --epochs=2 --checkpoint="$TEST_TMPDIR/ck" --resume \
  --save="$TEST_TMPDIR/model.tgm" > "$TEST_TMPDIR/d2.log"
cat "$TEST_TMPDIR/d1.log" "$TEST_TMPDIR/d2.log" | grep -v ' batch '
grep -q "ranks 2" "$TEST_TMPDIR/d1.log"
grep -q "^epoch 1 weights bit-identical on all 2 ranks" "$TEST_TMPDIR/d1.log"
grep -q "^epoch 2 weights bit-identical on all 2 ranks" "$TEST_TMPDIR/d2.log"
grep -q "^resumed from" "$TEST_TMPDIR/d2.log"
# Only rank 0 prints: one header line per run.
[[ $(grep -c "^arch " "$TEST_TMPDIR/d2.log") -eq 1 ]]
[[ -s "$TEST_TMPDIR/model.tgm" ]]
single=$(awk '$1 == "test_accuracy" {print $2}' "$TEST_TMPDIR/single.log")
distributed=$(awk '$1 == "test_accuracy" {print $2}' "$TEST_TMPDIR/d2.log")
echo "single process: test_accuracy $single; 2 ranks (resumed after epoch 1): test_accuracy $distributed"
awk -v a="$single" -v b="$distributed" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0.9 && d <= 0.01) }'
echo "distributed MNIST OK"
