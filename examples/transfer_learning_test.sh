#!/usr/bin/env bash
# tapegrad/examples/transfer_learning_test.sh: transfer_learning on the MNIST classifier PyTorch
# trained (tests/reference/onnx_models/mnist_cnn) learns Fashion-MNIST in one epoch with the
# backbone frozen (test accuracy >= 0.68, where chance is 0.10; statistics unchanged), and its
# saved .tgm scores the same with `tapegrad predict`.
set -euo pipefail
example="$1" tapegrad="$2"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
data=/usr/share/datasets/fashion-mnist
[[ -f $data/t10k-images-idx3-ubyte.gz ]] || { echo "FAIL: $data is missing: bash tools/setup.sh installs dataset-fashion-mnist" >&2; exit 1; }
"$example" --backbone=tests/reference/onnx_models/mnist_cnn/model.onnx --epochs=1 \
  --save="$tmp/fashion.tgm" | tee "$tmp/out"
accuracy=$(awk '$1 == "epoch" {print $6}' "$tmp/out" | tail -1)
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.68) }' || { echo "FAIL: test accuracy $accuracy < 0.68" >&2; exit 1; }
grep -qx "backbone statistics unchanged: yes" "$tmp/out" || { echo "FAIL: the frozen backbone changed" >&2; exit 1; }
predicted=$("$tapegrad" predict "$tmp/fashion.tgm" --data_dir="$data" | awk '{print $2}')
[[ "$predicted" == "$accuracy" ]] || { echo "FAIL: the saved model scores $predicted, training printed $accuracy" >&2; exit 1; }
echo "transfer_learning_test: test accuracy $accuracy, saved model agrees"
