#!/usr/bin/env bash
# tapegrad/bench/compare_onnx_runtime.sh [ROUNDS] [THREADS]: the workloads exported from Debian's
# PyTorch to ONNX (bench/export_onnx_workloads.py: resnet_fmnist, char_gpt, lstm_lm), each file run
# by tapegrad (io::load_onnx, bench/onnx_model_throughput) and by ONNX Runtime (npm
# onnxruntime-node, bench/ort_throughput.js), alternating ROUNDS times (default 3), both with
# THREADS threads (default 2): batch 1 latency and batch 64 throughput, a Markdown table of the
# medians with the ratios and targets (throughput >= 1x ONNX Runtime, latency <= 1.25x).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} threads=${2:-2}
# Timed forwards per round (medians): enough that the first calls at a new batch size (buffers
# first touched) do not decide the figure on either side.
latency_runs=300 throughput_runs=40

source bench/compare_common.sh
# shellcheck disable=SC2207  # word splitting of the package list is intended
need=($(torch_packages))
need+=($(onnx_packages))
install_missing "${need[@]}"
[[ -f tools/onnxruntime/node_modules/onnxruntime-node/package.json ]] || bash tools/setup.sh >/dev/null
bazel build -c opt //bench:onnx_model_throughput >/dev/null 2>&1
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$py bench/export_onnx_workloads.py "$tmp" >/dev/null 2>&1
# resnet_fmnist_cl: the same file, tapegrad given channels-last images (ONNX Runtime picks its
# own layouts either way).
declare -A sample=([resnet_fmnist]=1,28,28 [resnet_fmnist_cl]=1,28,28 [char_gpt]=128 [lstm_lm]=64)
workloads=(resnet_fmnist resnet_fmnist_cl char_gpt lstm_lm)
for w in "${workloads[@]}"; do
  file="$tmp/${w%_cl}.onnx" channels_last=false
  [[ $w == *_cl ]] && channels_last=true
  for ((r = 0; r < rounds; r++)); do
    bazel-bin/bench/onnx_model_throughput --model="$file" --sample_shape="${sample[$w]}" \
      --threads="$threads" --channels_last=$channels_last --latency_runs="$latency_runs" \
      --throughput_runs="$throughput_runs" >> "$tmp/$w.tapegrad"
    node bench/ort_throughput.js "$file" "${sample[$w]}" "$threads" "$latency_runs" "$throughput_runs" >> "$tmp/$w.ort"
  done
done

ort_version=$(node -p "require('./tools/onnxruntime/node_modules/onnxruntime-node/package.json').version")
echo "tapegrad (imported ONNX) vs ONNX Runtime $ort_version, the same .onnx files, $threads threads, median of $rounds alternating rounds; $(date +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
printf "| %-16s | %-24s | %10s | %12s | %7s | %-9s |\n" model figure tapegrad "ONNX Runtime" ratio target
printf "|%s|%s|%s|%s|%s|%s|\n" "------------------" "--------------------------" "------------" "--------------" "---------" "-----------"
for w in "${workloads[@]}"; do
  for f in latency_ms throughput_per_s; do
    target=">= 1"; [[ $f == latency_ms ]] && target="<= 1.25"
    awk -v w="$w" -v f="$f" -v t="$(median "$tmp/$w.tapegrad" $f)" -v o="$(median "$tmp/$w.ort" $f)" -v g="$target" \
      'BEGIN { printf "| %-16s | %-24s | %10.3f | %12.3f | %7.2f | %-9s |\n", w, (f == "latency_ms" ? "batch 1 latency ms" : "batch 64 samples/s"), t, o, t / o, g }'
  done
done
