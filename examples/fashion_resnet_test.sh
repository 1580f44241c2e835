#!/usr/bin/env bash
# tapegrad/examples/fashion_resnet_test.sh: fashion_resnet on the first 4,000 Fashion-MNIST training
# images for 2 epochs learns (test accuracy on all 10,000 >= 0.6; chance is 0.1), writes its
# metrics and plot, and its saved model scores the same accuracy through `tapegrad predict`, which
# normalizes with the statistics the file carries.
set -euo pipefail
fashion_resnet=$1 tapegrad=$2
data=/usr/share/datasets/fashion-mnist
[[ -f $data/t10k-images-idx3-ubyte.gz ]] || { echo "FAIL: $data missing (bash tools/setup.sh installs it)" >&2; exit 1; }
tmp=${TEST_TMPDIR:-$(mktemp -d)}
export OMP_NUM_THREADS=1  # a fixed count: an oversubscribed team crawls (ops/parallel.h)
"$fashion_resnet" --epochs=2 --width=1 --train_limit=4000 --save="$tmp/fashion.tgm" --metrics_csv="$tmp/metrics.csv" \
  --plot="$tmp/plot.svg" | tee "$tmp/out" | grep -v batch
accuracy=$(awk '$1 == "test_accuracy" {print $2}' "$tmp/out")
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.6) }' || { echo "FAIL: test accuracy $accuracy < 0.6" >&2; exit 1; }
[[ $(wc -l < "$tmp/metrics.csv") -eq 3 ]] || { cat "$tmp/metrics.csv"; echo "FAIL: metrics.csv lacks its 2 epochs" >&2; exit 1; }
grep -q "<svg" "$tmp/plot.svg" || { echo "FAIL: no SVG plot" >&2; exit 1; }
reloaded=$("$tapegrad" predict "$tmp/fashion.tgm" --data_dir="$data" | awk '$1 == "test_accuracy" {print $2}')
[[ $reloaded == "$accuracy" ]] || { echo "FAIL: the saved model scores $reloaded, the run $accuracy" >&2; exit 1; }
echo "fashion_resnet_test: test accuracy $accuracy, the same from the saved model"
