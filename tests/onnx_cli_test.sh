#!/usr/bin/env bash
# tapegrad/tests/onnx_cli_test.sh: the CLI on models PyTorch exported: inspect an .onnx, run it on
# .npy input, import it as a .tgm and run that (the same bytes out), and refuse bad arguments
# with exit code 2 and bad files with exit code 1.
set -euo pipefail
tapegrad="$1"
models=tests/reference/onnx_models
tmp="${TEST_TMPDIR:-$(mktemp -d)}"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_code() {  # expect_code CODE command...
  local want=$1; shift
  set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
  [[ $got == "$want" ]] || { cat "$tmp/err" >&2; fail "$* exited $got, expected $want"; }
}

"$tapegrad" inspect "$models/cnn/model.onnx" >"$tmp/inspect"
grep -qx "format onnx opset 17" "$tmp/inspect" || fail "inspect: no opset line"
grep -qx "input input float32 \[batch,1,12,12\]" "$tmp/inspect" || fail "inspect: input line"
grep -qx "op Conv 2" "$tmp/inspect" || fail "inspect: op counts"
grep -qx "buffer bn.running_mean \[4\]" "$tmp/inspect" || fail "inspect: buffers"
grep -qx "parameter conv1.weight \[4,1,3,3\]" "$tmp/inspect" || fail "inspect: parameters"

"$tapegrad" run "$models/cnn/model.onnx" --input="$models/cnn/input.npy" --output="$tmp/onnx.npy" >/dev/null
"$tapegrad" import-onnx "$models/cnn/model.onnx" "$tmp/cnn.tgm" >"$tmp/import"
grep -q "input \[-1,1,12,12\]" "$tmp/import" || fail "import-onnx: the batch is not symbolic: $(cat "$tmp/import")"
"$tapegrad" run "$tmp/cnn.tgm" --input=input="$models/cnn/input.npy" --output="$tmp/tgm.npy" >/dev/null
cmp "$tmp/onnx.npy" "$tmp/tgm.npy" || fail "the .onnx and the imported .tgm give different outputs"

# Named inputs and outputs; int64 token ids.
"$tapegrad" run "$models/lstm/model.onnx" --input=input="$models/lstm/input.npy" --output=output="$tmp/lstm.npy" \
  | grep -q "output output float32 \[3,7,20\]" || fail "run: lstm output shape"

expect_code 2 "$tapegrad" run "$models/cnn/model.onnx" --input="$models/cnn/input.npy"
grep -q "the model has 1 outputs, 0 --output given" "$tmp/err" || fail "missing --output not named"
expect_code 2 "$tapegrad" run "$models/cnn/model.onnx" --input=nope="$models/cnn/input.npy" --output="$tmp/y.npy"
expect_code 2 "$tapegrad" inspect "$models/cnn/model.onnx" --input="$models/cnn/input.npy"
expect_code 1 "$tapegrad" run "$models/cnn/model.onnx" --input="$models/lstm/input.npy" --output="$tmp/y.npy"
grep -q "input 'input' is int64, the graph expects float32" "$tmp/err" || fail "dtype mismatch not named: $(cat "$tmp/err")"
printf 'garbage' >"$tmp/bad.onnx"
expect_code 1 "$tapegrad" inspect "$tmp/bad.onnx"
grep -q "not a valid ONNX model" "$tmp/err" || fail "garbage .onnx not named"
printf 'garbage' >"$tmp/bad.npy"
expect_code 1 "$tapegrad" run "$models/cnn/model.onnx" --input="$tmp/bad.npy" --output="$tmp/y.npy"
grep -q "not a .npy file" "$tmp/err" || fail "garbage .npy not named"
echo "onnx_cli_test: all checks passed"
