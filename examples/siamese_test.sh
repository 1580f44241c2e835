#!/usr/bin/env bash
# tapegrad/examples/siamese_test.sh: siamese on pairs of the first 6,000 Fashion-MNIST training
# images for 2 epochs tells matching pairs from the rest (pair accuracy on pairs of 1,000 test
# images >= 0.75; chance is 0.5), with the same figures on a second run (pairs, order and
# initialization are seeded), and saves its weights.
set -euo pipefail
siamese=$1
tmp=${TEST_TMPDIR:-$(mktemp -d)}
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
run() { "$siamese" --epochs=2 --train_limit=6000 --test_limit=1000 "$@"; }
run --save="$tmp/siamese.pt" | tee "$tmp/out" | grep -v batch
accuracy=$(awk '$1 == "pair_accuracy" {print $2}' "$tmp/out")
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.75) }' || { echo "FAIL: pair accuracy $accuracy < 0.75" >&2; exit 1; }
strip() { grep -E "^epoch [0-9]+ train" "$1" | sed 's/ seconds .*//'; }
run > "$tmp/again"
diff <(strip "$tmp/out") <(strip "$tmp/again") || { echo "FAIL: two runs with one seed differ" >&2; exit 1; }
[[ -s $tmp/siamese.pt ]] || { echo "FAIL: no saved weights" >&2; exit 1; }
echo "siamese_test: pair accuracy $accuracy, repeatable"
