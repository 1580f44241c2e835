#!/usr/bin/env bash
# tapegrad/tests/determinism_test.sh: two runs of mnist_cnn with the same seed and thread count,
# 200 optimizer steps each (10,000 images, batch 50), save byte-identical model files, hence
# bit-identical weights (saving is deterministic); a different seed gives different weights.
set -euo pipefail
mnist_cnn=$1
run() {
  "$mnist_cnn" --arch=cnn_small --train_limit=10000 --test_limit=500 --threads=2 --data_dir=data/mnist \
    --seed="$1" --save="$TEST_TMPDIR/$2.tgm" > "$TEST_TMPDIR/$2.log"
}
run 0 a
run 0 b
run 1 c
cmp "$TEST_TMPDIR/a.tgm" "$TEST_TMPDIR/b.tgm"
echo "seed 0 twice: identical ($(md5sum < "$TEST_TMPDIR/a.tgm" | cut -c1-12))"
if cmp -s "$TEST_TMPDIR/a.tgm" "$TEST_TMPDIR/c.tgm"; then
  echo "seed 1 produced the same model as seed 0" >&2
  exit 1
fi
echo "determinism OK"
