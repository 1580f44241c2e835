#!/usr/bin/env bash
# tapegrad/examples/char_lm_test.sh: char_lm's LSTM, GRU and transformer on a small corpus the test
# writes (a few sentences repeated): validation bits per byte fall from the first epoch to the
# third and end below 2.5 (a uniform guess over the corpus's bytes costs 4.6), and sampling
# prints the requested number of bytes. A missing corpus is refused by name.
set -euo pipefail
char_lm=$1
tmp=${TEST_TMPDIR:-$(mktemp -d)}
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
for i in $(seq 300); do
  echo "the quick brown fox jumps over the lazy dog. a stitch in time saves nine. look before you leap."
done > "$tmp/corpus.txt"
small=(--data="$tmp/corpus.txt" --epochs=3 --steps_per_epoch=40 --batch_size=16 --context=32 --embedding=32
       --hidden=64 --layers=1 --validation_windows=50 --generate=40)
for model in lstm gru transformer; do
  "$char_lm" "${small[@]}" --model="$model" --lr=5e-3 > "$tmp/$model.log"
  grep -E "^epoch [0-9]+ train" "$tmp/$model.log" | sed "s/^/$model: /"
  first=$(awk '$1 == "epoch" && $2 == 1 && $3 == "train_loss" {print $6}' "$tmp/$model.log")
  last=$(awk '$1 == "validation_bits_per_byte" {print $2}' "$tmp/$model.log")
  awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a && b < 2.5) }' ||
    { echo "FAIL: $model: validation bits per byte $first -> $last" >&2; exit 1; }
  grep -q -- "--- 40 sampled bytes ---" "$tmp/$model.log" || { echo "FAIL: $model: no sample" >&2; exit 1; }
done
if "$char_lm" --data="$tmp/missing.txt" > /dev/null 2> "$tmp/err"; then echo "FAIL: a missing corpus was accepted" >&2; exit 1; fi
grep -q "missing.txt" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: the missing corpus is not named" >&2; exit 1; }
echo "char_lm_test: all three models learn"
