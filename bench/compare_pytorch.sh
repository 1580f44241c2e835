#!/usr/bin/env bash
# tapegrad/bench/compare_pytorch.sh [STEPS] [ROUNDS] [THREADS]: tapegrad against Debian's PyTorch
# (python3-torch, installed here if missing) on the same machine, same run. For cnn_small,
# cnn_wide and cnn_fc3 it alternates bench/mnist_throughput (tapegrad) and
# bench/pytorch_mnist_throughput.py (same models, optimizers, batch sizes, data handling and
# measurements) ROUNDS times (default 3) with STEPS timed steps each (default 200), both with
# THREADS threads (default 2; OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set for PyTorch too), and
# prints the medians and the tapegrad/PyTorch ratio of each figure with its target; then
# tapegrad's THREADS/1-thread training scaling on cnn_wide (its 1-thread run is in the same
# rounds), and PyTorch's cnn_small training with denormals flushed as tapegrad does. With
# TO_ACCURACY=0.99 in the environment it also trains cnn_small in both until that test accuracy
# (slow: minutes) and prints seconds_to_accuracy for each. Run from anywhere after tools/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-200} rounds=${2:-3} threads=${3:-2}

source bench/compare_common.sh
# shellcheck disable=SC2046  # word splitting of the package list is intended
install_missing $(torch_packages)
bazel build -c opt //bench:mnist_throughput >/dev/null 2>&1
tapegrad=(bazel-bin/bench/mnist_throughput)
pytorch=($py bench/pytorch_mnist_throughput.py)
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in cnn_small cnn_wide cnn_fc3; do
  for ((r = 0; r < rounds; r++)); do
    args=(--arch="$arch" --steps="$steps" --threads="$threads" --data_dir=data/mnist)
    "${tapegrad[@]}" "${args[@]}" >> "$tmp/$arch.tapegrad"
    "${pytorch[@]}" "${args[@]}" >> "$tmp/$arch.pytorch"
    if [[ $arch == cnn_small ]]; then  # PyTorch with tapegrad's denormal default, for reference
      "${pytorch[@]}" "${args[@]}" --flush_denormal >> "$tmp/flush.pytorch"
    fi
    if [[ $arch == cnn_wide ]]; then  # scaling: 1 thread in the same round as the THREADS run
      "${tapegrad[@]}" --arch=cnn_wide --steps="$steps" --threads=1 --data_dir=data/mnist >> "$tmp/scaling.1"
    fi
  done
done

echo "tapegrad vs PyTorch $($py -c 'import torch; print(torch.__version__)'), $threads threads, $steps steps after 20 warm-up, median of $rounds alternating rounds; $(date +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo  # blank lines around the table: it pastes into Markdown as is
printf "| %-9s | %-18s | %10s | %10s | %7s | %-8s |\n" arch figure tapegrad PyTorch ratio target
printf "|%s|%s|%s|%s|%s|%s|\n" "-----------" "--------------------" "------------" "------------" "---------" "----------"
for arch in cnn_small cnn_wide cnn_fc3; do
  for figure in train_images_per_s infer_images_per_s latency_batch1_us peak_rss_mb; do
    case $figure in
      train_images_per_s) target=">= 1.25" ;; infer_images_per_s) target=">= 2" ;;
      latency_batch1_us) target="<= 0.8" ;; peak_rss_mb) target="<= 1" ;;
    esac
    tg=$(median "$tmp/$arch.tapegrad" "$figure") pt=$(median "$tmp/$arch.pytorch" "$figure")
    awk -v a="$arch" -v f="$figure" -v t="$tg" -v p="$pt" -v g="$target" \
      'BEGIN { printf "| %-9s | %-18s | %10.1f | %10.1f | %7.2f | %-8s |\n", a, f, t, p, t / p, g }'
  done
done

echo
# Scaling: the median over rounds of each round's THREADS/1-thread ratio (the two runs of a round
# are back to back, so they share the machine's load of the moment).
one=$(median "$tmp/scaling.1" train_images_per_s) two=$(median "$tmp/cnn_wide.tapegrad" train_images_per_s)
paste <(awk '$1 == "train_images_per_s" {print $2}' "$tmp/cnn_wide.tapegrad") \
      <(awk '$1 == "train_images_per_s" {print $2}' "$tmp/scaling.1") | awk '{print $1 / $2}' > "$tmp/scaling.ratio"
ratios=$(sort -g "$tmp/scaling.ratio" | awk '{printf "%.2f\n", $1}' | paste -sd' ')
ratio=$(sort -g "$tmp/scaling.ratio" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
awk -v a="$one" -v b="$two" -v t="$threads" -v r="$ratio" -v all="$ratios" \
  'BEGIN { printf "scaling: cnn_wide training %.1f images/s with 1 thread, %.1f with %d (medians); per-round ratios %s, median %.2fx (target >= 1.7 for 2)\n", a, b, t, all, r }'

# The table's PyTorch runs keep its defaults; tapegrad flushes denormals by default (ops/parallel.h).
flush=$(median "$tmp/flush.pytorch" train_images_per_s) small=$(median "$tmp/cnn_small.tapegrad" train_images_per_s)
awk -v f="$flush" -v t="$small" \
  'BEGIN { printf "PyTorch with torch.set_flush_denormal(True), tapegrad'"'"'s default: cnn_small training %.1f images/s (tapegrad/that %.2f)\n", f, t / f }'

if [[ -n ${TO_ACCURACY:-} ]]; then
  for side in tapegrad pytorch; do
    if [[ $side == tapegrad ]]; then cmd=("${tapegrad[@]}"); else cmd=("${pytorch[@]}"); fi
    line=$("${cmd[@]}" --arch=cnn_small --threads="$threads" --to_accuracy="$TO_ACCURACY" --data_dir=data/mnist |
           grep seconds_to_accuracy)
    echo "$side cnn_small to $TO_ACCURACY: $line"
  done
fi
