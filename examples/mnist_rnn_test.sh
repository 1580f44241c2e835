#!/usr/bin/env bash
# tapegrad/examples/mnist_rnn_test.sh: mnist_rnn on the first 3,000 MNIST training images for 2
# epochs learns to read digits row by row: test accuracy on 1,000 images >= 0.7 (chance: 0.1; it
# reaches 0.80). The shared epoch flags (examples/epoch_log.h): 1 epoch with --checkpoint, then
# --resume, prints the same epoch-2 line as the straight run; the metrics CSV and the plot hold
# both epochs; a checkpoint of another --hidden is refused by name. --save writes the model.
set -euo pipefail
mnist_rnn=$1
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
tmp=$TEST_TMPDIR
common=(--data_dir=data/mnist --train_limit=3000 --test_limit=1000)
"$mnist_rnn" "${common[@]}" --epochs=2 --save="$tmp/rnn.tgm" | tee "$tmp/out" | grep -v batch
accuracy=$(awk '$1 == "test_accuracy" {print $2}' "$tmp/out")
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.7) }' || { echo "FAIL: test accuracy $accuracy < 0.7" >&2; exit 1; }
[[ -s "$tmp/rnn.tgm" ]] || { echo "FAIL: --save wrote nothing" >&2; exit 1; }

"$mnist_rnn" "${common[@]}" --epochs=1 --checkpoint="$tmp/run.ckpt" > /dev/null
"$mnist_rnn" "${common[@]}" --epochs=2 --checkpoint="$tmp/run.ckpt" --resume --metrics_csv="$tmp/m.csv" \
  --plot="$tmp/m.svg" > "$tmp/resumed"
grep -q "^resumed from $tmp/run.ckpt after epoch 1" "$tmp/resumed" || { echo "FAIL: did not resume" >&2; exit 1; }
straight=$(grep '^epoch 2 ' "$tmp/out" | cut -d' ' -f1-6)
resumed=$(grep '^epoch 2 ' "$tmp/resumed" | cut -d' ' -f1-6)
[[ -n "$straight" && "$straight" == "$resumed" ]] || { echo "FAIL: straight '$straight', resumed '$resumed'" >&2; exit 1; }
[[ $(head -1 "$tmp/m.csv") == "epoch,train_loss,test_accuracy,seconds" && $(wc -l < "$tmp/m.csv") -eq 3 ]] ||
  { echo "FAIL: metrics CSV:" >&2; cat "$tmp/m.csv" >&2; exit 1; }
[[ $(grep -c '<circle' "$tmp/m.svg") -eq 4 ]] || { echo "FAIL: the plot should show 2 epochs of 2 curves" >&2; exit 1; }
if "$mnist_rnn" "${common[@]}" --epochs=2 --hidden=64 --checkpoint="$tmp/run.ckpt" --resume > /dev/null 2> "$tmp/err"; then
  echo "FAIL: resumed a checkpoint of another --hidden" >&2; exit 1
fi
grep -q "was written with hidden=128, this run has hidden=64" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
echo "mnist_rnn_test: test accuracy $accuracy; resumed: $resumed"
