#!/usr/bin/env bash
# tapegrad/examples/dcgan_test.sh: dcgan for 20 steps on 1,280 MNIST images: its judge (cnn_small,
# trained first) scores >= 0.95 on the test set, both losses are finite numbers, the verdict on the
# samples lies in range, the sample grid is a PNG file and the saved generator loads; stopped
# after an epoch and resumed, it trains on as the straight run. A missing --classifier file is
# refused by name.
set -euo pipefail
dcgan=$1 tapegrad=$2
tmp=${TEST_TMPDIR:-$(mktemp -d)}
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
"$dcgan" --data_dir=data/mnist --epochs=1 --train_limit=1280 --judged_samples=200 --images="$tmp/images" \
  --save="$tmp/generator.tgm" | tee "$tmp/out" | grep -v batch
judge=$(awk '$1 == "judge" {print $4}' "$tmp/out")
awk -v a="$judge" 'BEGIN { exit !(a >= 0.95) }' || { echo "FAIL: the judge's test accuracy $judge < 0.95" >&2; exit 1; }
awk '$1 == "epoch" && $3 == "d_loss" { ok = $4 + 0 > 0 && $6 + 0 > 0 && $4 + 0 < 100 && $6 + 0 < 100 &&
     $8 >= 0.1 && $8 <= 1 && $10 >= 0 && $10 <= 0.1; found = 1 } END { exit !(found && ok) }' "$tmp/out" ||
  { echo "FAIL: an epoch line out of range" >&2; exit 1; }
head -c 8 "$tmp/images/samples_1.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" ||
  { echo "FAIL: samples_1.png is not a PNG file" >&2; exit 1; }
"$tapegrad" inspect "$tmp/generator.tgm" | grep -q "op conv_transpose2d 4" ||
  { "$tapegrad" inspect "$tmp/generator.tgm"; echo "FAIL: the saved generator does not load" >&2; exit 1; }
# Two epochs straight, and the same stopped after the first (--checkpoint: the generator in
# gan.ckpt, the discriminator in gan.ckpt.1) and resumed: the same second epoch.
small=(--data_dir=data/mnist --train_limit=640 --judged_samples=100)
"$dcgan" "${small[@]}" --epochs=2 > "$tmp/straight"
"$dcgan" "${small[@]}" --epochs=1 --checkpoint="$tmp/gan.ckpt" > /dev/null
[[ -s "$tmp/gan.ckpt" && -s "$tmp/gan.ckpt.1" ]] || { echo "FAIL: no checkpoint pair" >&2; exit 1; }
"$dcgan" "${small[@]}" --epochs=2 --checkpoint="$tmp/gan.ckpt" --resume > "$tmp/resumed"
straight=$(grep '^epoch 2 d_loss' "$tmp/straight" | cut -d' ' -f1-10)
resumed=$(grep '^epoch 2 d_loss' "$tmp/resumed" | cut -d' ' -f1-10)
[[ -n "$straight" && "$straight" == "$resumed" ]] || { echo "FAIL: straight '$straight', resumed '$resumed'" >&2; exit 1; }
if "$dcgan" --data_dir=data/mnist --classifier="$tmp/missing.tgm" > /dev/null 2> "$tmp/err"; then
  echo "FAIL: a missing classifier was accepted" >&2; exit 1
fi
grep -q "missing.tgm" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: the missing classifier is not named" >&2; exit 1; }
echo "dcgan_test: judge accuracy $judge; $(grep '^epoch' "$tmp/out")"
