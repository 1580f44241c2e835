#!/usr/bin/env bash
# tapegrad/bench/compare_workloads.sh [STEPS] [ROUNDS] [THREADS]: bench/workload_throughput
# (tapegrad) against bench/pytorch_workload_throughput.py (Debian's PyTorch, the same models,
# data, optimizers and measurements) on char_gpt, lstm_lm and resnet_fmnist (also channels last:
# resnet_fmnist_cl), alternating the two
# ROUNDS times (default 3) with STEPS timed steps each (default 20, after 10 warm-up steps), both
# with THREADS threads (default 2), and prints a Markdown table of the medians, the
# tapegrad/PyTorch ratios and the targets (training >= 1.5, inference >= 2, generation of 200
# tokens: tapegrad's KV cache against PyTorch's naive loop >= 3). Installs what it reads if
# missing: python3-torch, fortunes (the corpus), dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-20} rounds=${2:-3} threads=${3:-2}

source bench/compare_common.sh
# shellcheck disable=SC2207  # word splitting of the package list is intended
need=($(torch_packages))
[[ -d /usr/share/games/fortunes ]] || need+=(fortunes)
[[ -d /usr/share/datasets/fashion-mnist ]] || need+=(dataset-fashion-mnist)
install_missing "${need[@]}"
bazel build -c opt //bench:workload_throughput >/dev/null 2>&1
tapegrad=(bazel-bin/bench/workload_throughput)
pytorch=($py bench/pytorch_workload_throughput.py)
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# resnet_fmnist_cl: resnet_fmnist with model and images in channels-last memory format, on both sides.
workloads=(char_gpt lstm_lm resnet_fmnist resnet_fmnist_cl)
for w in "${workloads[@]}"; do
  for ((r = 0; r < rounds; r++)); do
    args=(--workload="${w%_cl}" --steps="$steps" --threads="$threads")
    [[ $w == *_cl ]] && args+=(--channels_last)
    "${tapegrad[@]}" "${args[@]}" >> "$tmp/$w.tapegrad"
    "${pytorch[@]}" "${args[@]}" >> "$tmp/$w.pytorch"
  done
done

echo "tapegrad vs PyTorch $($py -c 'import torch; print(torch.__version__)'), $threads threads, $steps steps after 10 warm-up, median of $rounds alternating rounds; $(date +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
printf "| %-13s | %-28s | %10s | %10s | %7s | %-7s |\n" workload figure tapegrad PyTorch ratio target
printf "|%s|%s|%s|%s|%s|%s|\n" "---------------" "------------------------------" "------------" "------------" "---------" "---------"
row() {  # row WORKLOAD FIGURE PYTORCH_FIGURE TARGET [DECIMALS]
  local tg pt
  tg=$(median "$tmp/$1.tapegrad" "$2") pt=$(median "$tmp/$1.pytorch" "$3")
  awk -v w="$1" -v f="$2" -v t="$tg" -v p="$pt" -v g="$4" -v d="${5:-1}" \
    'BEGIN { printf "| %-13s | %-28s | %10.*f | %10.*f | %7.2f | %-7s |\n", w, f, d, t, d, p, t / p, g }'
}
loss="loss_after_$((steps + 10))_steps"
for w in "${workloads[@]}"; do
  unit=tokens; [[ $w == resnet_fmnist* ]] && unit=images
  row "$w" "train_${unit}_per_s" "train_${unit}_per_s" ">= 1.5"
  row "$w" "infer_${unit}_per_s" "infer_${unit}_per_s" ">= 2"
  # Both sides' frozen, fused copies: io::optimize_for_inference, torch.jit.optimize_for_inference.
  [[ $w == resnet_fmnist* ]] && row "$w" infer_optimized_images_per_s infer_optimized_images_per_s ""
  [[ $w == char_gpt ]] && row "$w" generate_tokens_per_s generate_tokens_per_s ">= 3"
  row "$w" "$loss" "$loss" "~ 1" 3
  row "$w" peak_rss_mb peak_rss_mb ""
done
echo
for w in resnet_fmnist resnet_fmnist_cl; do
  echo "$w: tapegrad's optimized copy against PyTorch's eager model: $(median "$tmp/$w.tapegrad" infer_optimized_images_per_s) vs $(median "$tmp/$w.pytorch" infer_images_per_s) images/s"
done
echo "char_gpt generation: tapegrad's KV cache against its own naive loop: $(median "$tmp/char_gpt.tapegrad" generate_tokens_per_s) vs $(median "$tmp/char_gpt.tapegrad" generate_naive_tokens_per_s) tokens/s"
