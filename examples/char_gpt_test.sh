#!/usr/bin/env bash
# tapegrad/examples/char_gpt_test.sh: a small char_gpt on a small corpus the test writes (a few
# sentences repeated): the validation loss falls from the first epoch to the third and ends below
# 1.2 nats per byte (a uniform guess over the corpus's bytes costs 3.2), greedy sampling through
# the key/value cache writes words of the corpus, a hot top-k sample has the requested length, the
# weights are saved, a run resumed from its checkpoint goes on as the straight one, and a missing
# corpus is refused by name.
set -euo pipefail
char_gpt=$1
tmp=${TEST_TMPDIR:-$(mktemp -d)}
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
for i in $(seq 300); do
  echo "the quick brown fox jumps over the lazy dog. a stitch in time saves nine. look before you leap."
done > "$tmp/corpus.txt"
small=(--data="$tmp/corpus.txt" --epochs=3 --steps_per_epoch=40 --batch_size=16 --context=32 --d_model=32
       --heads=2 --layers=2 --mlp=64 --lr=3e-3 --validation_windows=50)
"$char_gpt" "${small[@]}" --generate=60 --temperature=0 --prompt="the " --save="$tmp/gpt.pt" > "$tmp/greedy.log"
grep -E "^epoch [0-9]+ train" "$tmp/greedy.log"
first=$(awk '$1 == "epoch" && $2 == 1 && $3 == "train_loss" {print $6}' "$tmp/greedy.log")
last=$(awk '$1 == "validation_loss" {print $2}' "$tmp/greedy.log")
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a && b < 1.2) }' ||
  { echo "FAIL: validation loss $first -> $last" >&2; exit 1; }
sample=$(sed -n '/^--- 60 sampled bytes/,$p' "$tmp/greedy.log" | tail -n +2)
echo "greedy sample: $sample"
words=$(tr -c 'a-z' '\n' <<< "$sample" | grep -cxE "quick|brown|fox|jumps|over|lazy|dog|stitch|time|saves|nine|look|before|you|leap")
[[ $words -ge 3 ]] || { echo "FAIL: the greedy sample holds $words words of the corpus" >&2; exit 1; }
[[ -s $tmp/gpt.pt ]] || { echo "FAIL: no saved weights" >&2; exit 1; }
"$char_gpt" "${small[@]}" --epochs=1 --generate=50 --temperature=1.5 --top_k=5 > "$tmp/hot.log"
[[ $(sed -n '/^--- 50 sampled bytes/,$p' "$tmp/hot.log" | tail -n +2 | head -c 50 | wc -c) -eq 50 ]] ||
  { cat "$tmp/hot.log"; echo "FAIL: the top-k sample is not 50 bytes" >&2; exit 1; }
# --checkpoint after epoch 2, then --resume for the third: the same epoch-3 line as the straight run
# (the checkpoint holds the generator the random windows are drawn from).
"$char_gpt" "${small[@]}" --epochs=2 --checkpoint="$tmp/gpt.ckpt" > /dev/null
"$char_gpt" "${small[@]}" --checkpoint="$tmp/gpt.ckpt" --resume --metrics_csv="$tmp/gpt.csv" > "$tmp/resumed.log"
straight=$(grep '^epoch 3 train_loss' "$tmp/greedy.log" | cut -d' ' -f1-8)
resumed=$(grep '^epoch 3 train_loss' "$tmp/resumed.log" | cut -d' ' -f1-8)
[[ -n "$straight" && "$straight" == "$resumed" ]] || { echo "FAIL: straight '$straight', resumed '$resumed'" >&2; exit 1; }
[[ $(head -1 "$tmp/gpt.csv") == "epoch,train_loss,validation_loss,seconds" && $(wc -l < "$tmp/gpt.csv") -eq 4 ]] ||
  { cat "$tmp/gpt.csv" >&2; echo "FAIL: the metrics CSV" >&2; exit 1; }
if "$char_gpt" --data="$tmp/missing.txt" > /dev/null 2> "$tmp/err"; then echo "FAIL: a missing corpus was accepted" >&2; exit 1; fi
grep -q "missing.txt" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: the missing corpus is not named" >&2; exit 1; }
echo "char_gpt_test: validation loss $first -> $last nats per byte; $words corpus words in the greedy sample"
