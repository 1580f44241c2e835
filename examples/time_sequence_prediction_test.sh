#!/usr/bin/env bash
# tapegrad/examples/time_sequence_prediction_test.sh: 4 L-BFGS steps on 20 waves of 200 samples
# (hidden 20): the training loss falls by 10x or more from the first step, the test loss is below
# 0.01, the SVG plot and the initial weights (--initial_weights) are written.
set -euo pipefail
example=$1
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
"$example" --steps=4 --waves=20 --length=200 --hidden=20 --future=100 --plot="$TEST_TMPDIR/sine.svg" \
  --initial_weights="$TEST_TMPDIR/initial" | tee "$TEST_TMPDIR/out"
first=$(awk '$1 == "step" && $2 == 1 {print $4}' "$TEST_TMPDIR/out")
last=$(awk '$1 == "step" {loss = $4} END {print loss}' "$TEST_TMPDIR/out")
mse=$(awk '$1 == "test_mse" {print $2}' "$TEST_TMPDIR/out")
awk -v a="$first" -v b="$last" -v m="$mse" 'BEGIN { exit !(b * 10 <= a && m < 0.01) }' ||
  { echo "FAIL: loss $first -> $last, test mse $mse" >&2; exit 1; }
grep -q "<polyline" "$TEST_TMPDIR/sine.svg" || { echo "FAIL: no plot" >&2; exit 1; }
# The initial weights, one NumPy file per parameter (the twin's --initial_weights reads them).
for name in lstm1.weight_ih lstm1.weight_hh lstm1.bias_ih lstm1.bias_hh lstm2.weight_ih linear.weight linear.bias; do
  head -c 6 "$TEST_TMPDIR/initial/$name.npy" | grep -q NUMPY || { echo "FAIL: no $name.npy" >&2; exit 1; }
done
echo "time_sequence_prediction_test: loss $first -> $last, test mse $mse"
