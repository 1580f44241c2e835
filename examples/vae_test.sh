#!/usr/bin/env bash
# tapegrad/examples/vae_test.sh: vae on the first 3,000 MNIST images for 5 epochs: the test loss
# (negative ELBO, nats per image) falls every epoch and ends below 200 (an untrained model's is
# about 545), and the reconstruction and sample grids are valid PNG files of the right size.
set -euo pipefail
vae=$1
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
"$vae" --data_dir=data/mnist --epochs=5 --train_limit=3000 --test_limit=1000 --images="$TEST_TMPDIR/images" \
  | tee "$TEST_TMPDIR/out" | grep -v batch
awk '$1 == "epoch" && $3 == "train_loss" {print $6}' "$TEST_TMPDIR/out" |
  awk 'NR > 1 && $1 >= last { exit 1 } { last = $1 } END { exit !(last < 200) }' ||
  { echo "FAIL: the test loss did not fall below 200 epoch after epoch" >&2; exit 1; }
for f in reconstruction_5 sample_5; do
  head -c 8 "$TEST_TMPDIR/images/$f.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" ||
    { echo "FAIL: $f.png is not a PNG file" >&2; exit 1; }
done
echo "vae_test: $(grep '^test_loss' "$TEST_TMPDIR/out")"
