#!/usr/bin/env bash
# tapegrad/tests/save_predict_test.sh: `mnist_cnn --save` then `tapegrad predict` on the saved
# file reproduces the accuracy mnist_cnn printed, and `tapegrad inspect` describes the file;
# bad inputs give a one-line reason and a non-zero exit.
set -euo pipefail
mnist_cnn=$1 tapegrad=$2
out=$TEST_TMPDIR/model.tgm
"$mnist_cnn" --arch=cnn_small --train_limit=1000 --data_dir=data/mnist --save="$out" > "$TEST_TMPDIR/train.log"
trained=$(grep '^test_accuracy ' "$TEST_TMPDIR/train.log")
predicted=$("$tapegrad" predict "$out" --data_dir=data/mnist)
echo "mnist_cnn: $trained / tapegrad predict: $predicted"
[[ "$trained" == "$predicted" ]]
"$tapegrad" inspect "$out" | grep -q '^metadata architecture = cnn_small$'
"$tapegrad" inspect "$out" | grep -q '^parameters total 28938$'
"$tapegrad" export-onnx "$out" "$TEST_TMPDIR/model.onnx" | grep -q 'opset 13'
"$tapegrad" dot "$out" | grep -q '"v1" \[label="conv2d"\]'
# Bad input: a truncated model, a missing file, an unknown command.
head -c 100 "$out" > "$TEST_TMPDIR/cut.tgm"
if "$tapegrad" predict "$TEST_TMPDIR/cut.tgm" --data_dir=data/mnist 2> "$TEST_TMPDIR/err"; then exit 1; fi
[[ $(wc -l < "$TEST_TMPDIR/err") == 1 ]] && grep -q "cut.tgm" "$TEST_TMPDIR/err"
if "$tapegrad" inspect "$TEST_TMPDIR/none.tgm" 2>/dev/null; then exit 1; fi
# predict says which normalization it applied, takes --mean/--std, and names a bad flag value.
"$tapegrad" predict "$out" --data_dir=data/mnist 2> "$TEST_TMPDIR/err" > /dev/null
grep -q "normalized with mean 0.1307 std 0.3081 (the model file's metadata)" "$TEST_TMPDIR/err"
"$tapegrad" predict "$out" --data_dir=data/mnist --mean=0.5 --std=0.25 2> "$TEST_TMPDIR/err" | grep -q '^test_accuracy '
grep -q "normalized with mean 0.5 std 0.25 (--mean/--std)" "$TEST_TMPDIR/err"
if "$tapegrad" predict "$out" --data_dir=data/mnist --mean=0.5 2> "$TEST_TMPDIR/err"; then exit 1; fi
grep -q -- "--mean and --std go together" "$TEST_TMPDIR/err"
if "$tapegrad" predict "$out" --data_dir=data/mnist --batch_size=abc 2> "$TEST_TMPDIR/err"; then exit 1; fi
grep -q -- "Illegal value 'abc' specified for flag 'batch_size'" "$TEST_TMPDIR/err"
if "$tapegrad" frobnicate 2>/dev/null; then exit 1; fi
# --checkpoint/--resume: 1 epoch + resume gives the same epoch-2 line as 2 straight epochs.
# (a fixed --threads: bit-for-bit repeatable training needs one, Note [Sharing the cores])
common=(--arch=cnn_small --train_limit=300 --epochs=2 --threads=2 --data_dir=data/mnist)
"$mnist_cnn" "${common[@]}" | grep '^epoch 2 train' | cut -d' ' -f1-6 > "$TEST_TMPDIR/straight"
"$mnist_cnn" "${common[@]}" --epochs=1 --checkpoint="$TEST_TMPDIR/run.ckpt" > /dev/null
"$mnist_cnn" "${common[@]}" --checkpoint="$TEST_TMPDIR/run.ckpt" --resume | grep '^epoch 2 train' | cut -d' ' -f1-6 > "$TEST_TMPDIR/resumed"
echo "straight: $(cat "$TEST_TMPDIR/straight") / resumed: $(cat "$TEST_TMPDIR/resumed")"
diff "$TEST_TMPDIR/straight" "$TEST_TMPDIR/resumed"
echo "save/predict/inspect/resume OK"
