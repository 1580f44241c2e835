#!/usr/bin/env bash
# tapegrad/tests/determinism_test.sh: two runs of mnist_cnn with the same seed and thread count,
# 200 optimizer steps each (10,000 images, batch 50), save byte-identical model files, hence
# bit-identical weights (saving is deterministic); a different seed gives different weights; with
# --deterministic, 1 thread and 2 threads give byte-identical models too.
set -euo pipefail
mnist_cnn=$1
run() {
  local name=$1; shift
  "$mnist_cnn" --arch=cnn_small --train_limit=10000 --test_limit=500 --data_dir=data/mnist \
    --save="$TEST_TMPDIR/$name.tgm" "$@" > "$TEST_TMPDIR/$name.log"
}
run a --seed=0 --threads=2
run b --seed=0 --threads=2
run c --seed=1 --threads=2
cmp "$TEST_TMPDIR/a.tgm" "$TEST_TMPDIR/b.tgm"
echo "seed 0 twice: identical ($(md5sum < "$TEST_TMPDIR/a.tgm" | cut -c1-12))"
if cmp -s "$TEST_TMPDIR/a.tgm" "$TEST_TMPDIR/c.tgm"; then
  echo "seed 1 produced the same model as seed 0" >&2
  exit 1
fi
run d1 --seed=0 --threads=1 --deterministic
run d2 --seed=0 --threads=2 --deterministic
cmp "$TEST_TMPDIR/d1.tgm" "$TEST_TMPDIR/d2.tgm"
echo "--deterministic, 1 and 2 threads: identical ($(md5sum < "$TEST_TMPDIR/d1.tgm" | cut -c1-12))"
echo "determinism OK"
