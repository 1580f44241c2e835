#!/usr/bin/env bash
# tapegrad/examples/transfer_learning_test.sh: transfer_learning on the MNIST classifier PyTorch
# trained (tests/reference/onnx_models/mnist_cnn) learns Fashion-MNIST in one epoch with the
# backbone frozen (test accuracy >= 0.68, where chance is 0.10; statistics unchanged); its saved
# .tgm scores the same with `tapegrad predict`, and exported to ONNX again (`tapegrad
# export-onnx`) ONNX Runtime gives tapegrad's outputs and predictions on 200 test images; frozen
# for an epoch and then unfrozen, the fine-tuned model does better than the frozen one, and the
# same run stopped after the frozen epoch and resumed from its checkpoint ends the same.
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

# Exported again to ONNX: ONNX Runtime on 200 normalized test images gives tapegrad's logits
# (`tapegrad run` on the .tgm) and the same predictions. Perl (Debian's perl-base) writes the
# float32 input, raw for ONNX Runtime and as .npy for tapegrad.
"$tapegrad" export-onnx "$tmp/fashion.tgm" "$tmp/fashion.onnx" > /dev/null
n=200
gunzip -c "$data/t10k-images-idx3-ubyte.gz" > "$tmp/t10k-images"  # (a pipe into head would die of SIGPIPE)
perl -e '
  local $/; open(my $idx, "<", $ARGV[3]) or die; binmode $idx;
  my @px = unpack("C*", substr(<$idx>, 16, $ARGV[2] * 784));
  my $raw = pack("f<*", map { ($_ / 255 - 0.2860) / 0.3530 } @px);
  open(my $bin, ">", $ARGV[0]) or die; binmode $bin; print $bin $raw;
  my $h = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: ($ARGV[2], 1, 28, 28), }";
  $h .= " " x (63 - (10 + length($h)) % 64) . "\n";
  open(my $npy, ">", $ARGV[1]) or die; binmode $npy; print $npy "\x93NUMPY\x01\x00", pack("v", length($h)), $h, $raw;
' "$tmp/images.bin" "$tmp/images.npy" "$n" "$tmp/t10k-images"
"$tapegrad" run "$tmp/fashion.tgm" --input="$tmp/images.npy" --output="$tmp/logits.npy" > /dev/null
node tools/onnxruntime/run_model.js "$tmp/fashion.onnx" "$tmp/images.bin" "$n,1,28,28" "$tmp/ort.bin" > /dev/null
perl -e '
  local $/;
  open(my $a, "<", $ARGV[0]) or die; binmode $a; my $npy = <$a>;
  open(my $b, "<", $ARGV[1]) or die; binmode $b; my $ort = <$b>;
  my $skip = 10 + unpack("v", substr($npy, 8, 2));
  my @x = unpack("f<*", substr($npy, $skip)); my @y = unpack("f<*", $ort);
  die "sizes differ: " . scalar(@x) . " vs " . scalar(@y) . "\n" unless @x == @y && @x == $ARGV[2] * 10;
  my ($worst, $agree) = (0, 0);
  for my $i (0 .. $ARGV[2] - 1) {
    my ($bx, $by) = (0, 0);
    for my $c (0 .. 9) {
      my $d = abs($x[$i * 10 + $c] - $y[$i * 10 + $c]); $worst = $d if $d > $worst;
      $bx = $c if $x[$i * 10 + $c] > $x[$i * 10 + $bx]; $by = $c if $y[$i * 10 + $c] > $y[$i * 10 + $by];
    }
    $agree++ if $bx == $by;
  }
  printf "re-exported ONNX in ONNX Runtime: max |logit difference| %.2g, predictions agree %d/%d\n", $worst, $agree, $ARGV[2];
  exit($worst <= 1e-4 && $agree == $ARGV[2] ? 0 : 1);
' "$tmp/logits.npy" "$tmp/ort.bin" "$n" || { echo "FAIL: ONNX Runtime differs from tapegrad on the re-exported model" >&2; exit 1; }

# Frozen for one epoch, then unfrozen (10,000 images an epoch): fine-tuning lifts the accuracy.
"$example" --backbone=tests/reference/onnx_models/mnist_cnn/model.onnx --epochs=2 --unfreeze_after=1 \
  --train_limit=10000 | tee "$tmp/unfreeze"
grep -qx "epoch 2: backbone unfrozen" "$tmp/unfreeze" || { echo "FAIL: the backbone was not unfrozen" >&2; exit 1; }
frozen=$(awk '$1 == "epoch" && $2 == 1 {print $6}' "$tmp/unfreeze")
tuned=$(awk '$1 == "epoch" && $2 == 2 && $3 == "train_loss" {print $6}' "$tmp/unfreeze")
awk -v a="$frozen" -v b="$tuned" 'BEGIN { exit !(b > a + 0.02) }' ||
  { echo "FAIL: unfrozen accuracy $tuned is not above the frozen $frozen" >&2; exit 1; }
# The same run in two parts: the frozen epoch with --checkpoint, then --resume unfreezes for the
# second and prints the straight run's epoch-2 line.
"$example" --backbone=tests/reference/onnx_models/mnist_cnn/model.onnx --epochs=1 --unfreeze_after=1 \
  --train_limit=10000 --checkpoint="$tmp/transfer.ckpt" > /dev/null
"$example" --backbone=tests/reference/onnx_models/mnist_cnn/model.onnx --epochs=2 --unfreeze_after=1 \
  --train_limit=10000 --checkpoint="$tmp/transfer.ckpt" --resume > "$tmp/resumed"
straight=$(grep '^epoch 2 train_loss' "$tmp/unfreeze" | cut -d' ' -f1-6)
resumed=$(grep '^epoch 2 train_loss' "$tmp/resumed" | cut -d' ' -f1-6)
[[ -n "$straight" && "$straight" == "$resumed" ]] || { echo "FAIL: straight '$straight', resumed '$resumed'" >&2; exit 1; }
echo "transfer_learning_test: test accuracy $accuracy, saved model agrees; frozen $frozen, then unfrozen $tuned (resumed: the same)"
