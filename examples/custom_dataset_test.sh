#!/usr/bin/env bash
# tapegrad/examples/custom_dataset_test.sh: make_shapes writes a 900-image PNG folder; custom_dataset
# learns its three classes (test accuracy >= 0.9 after 15 epochs), the same first 5 epochs with 1
# and 3 data-loading workers (random augmentation seeded per batch), and its saved model loads with
# the class names in its metadata. A folder with a broken image is refused naming the file.
set -euo pipefail
make_shapes=$1 custom_dataset=$2 tapegrad=$3
tmp=${TEST_TMPDIR:-$(mktemp -d)}
# A fixed compute thread count: an adaptive team may round GEMMs differently under load.
export OMP_NUM_THREADS=2
"$make_shapes" --dir="$tmp/shapes"
"$custom_dataset" --data_dir="$tmp/shapes" --num_workers=3 --save="$tmp/shapes.tgm" > "$tmp/three.log"
"$custom_dataset" --data_dir="$tmp/shapes" --num_workers=1 --epochs=5 > "$tmp/one.log"
grep -E "^(classes|epoch [0-9]+ train|test_accuracy)" "$tmp/three.log"
accuracy=$(awk '$1 == "test_accuracy" {print $2}' "$tmp/three.log")
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.9) }' || { echo "FAIL: test accuracy $accuracy < 0.9" >&2; exit 1; }
# Everything but the timings agrees between 3 workers and 1 (over the first 5 epochs).
strip() { grep -E "^epoch [1-5] train" "$1" | sed 's/ seconds .*//'; }
diff <(strip "$tmp/three.log") <(strip "$tmp/one.log") || { echo "FAIL: 1 and 3 workers trained differently" >&2; exit 1; }
"$tapegrad" inspect "$tmp/shapes.tgm" | grep -q "classes.*circle,square,triangle" ||
  { "$tapegrad" inspect "$tmp/shapes.tgm"; echo "FAIL: the saved model lacks its class names" >&2; exit 1; }
printf 'not a png' > "$tmp/shapes/square/0007.png"
if "$custom_dataset" --data_dir="$tmp/shapes" --epochs=1 > /dev/null 2> "$tmp/err"; then
  echo "FAIL: a broken image was accepted" >&2; exit 1
fi
grep -q "square/0007.png: neither a PNG nor a JPEG" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: the broken file is not named" >&2; exit 1; }
echo "custom_dataset_test: test accuracy $accuracy, identical with 1 and 3 workers"
