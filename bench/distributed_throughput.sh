#!/usr/bin/env bash
# tapegrad/bench/distributed_throughput.sh [--link=RATE,DELAY] [--arch=ARCH] [--images=N]
# [--batch_size=B] [--gradient_compression=bf16]: data-parallel training speed across two simulated hosts
# (distributed/two_hosts.sh: network namespaces, Open MPI over TCP only; --link shapes the link,
# e.g. 1gbit,0.2ms). Trains one epoch of ARCH (default cnn_small) on the first N (default 10000)
# MNIST training images, one core per host: one host alone, then two hosts with the gradient
# all-reduce after backward (--overlap=false), then overlapped with backward. Prints per run
#   hosts H overlap O train_images_per_s X sync_ms_per_step S straggler_ms_per_step W comm_ms_per_step C
# (per step, the time in synchronize_gradients S = waiting for the slower rank W + communication
# that backward did not hide C; mnist_cnn --time_communication), then the share of the
# communication wait that the overlap hid. Needs root (namespaces). Run from the repository root
# after tools/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
link="" arch=cnn_small images=10000 batch="" compression=""
for arg in "$@"; do
  case $arg in
    --link=*) link=$arg ;;
    --arch=*) arch=${arg#--arch=} ;;
    --images=*) images=${arg#--images=} ;;
    --batch_size=*) batch=$arg ;;
    --gradient_compression=*) compression=$arg ;;
    *) echo "distributed_throughput.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
bazel build -c opt //examples:mnist_cnn >/dev/null 2>&1
args=(--arch="$arch" --train_limit="$images" --test_limit=100 --data_dir=data/mnist --threads=1 $batch)

# report HOSTS OVERLAP OUTPUT: the figures of one run's output.
report() {
  local out
  out=$(tr '\r' '\n' <<< "$3")
  seconds=$(sed -n 's/.*train_loss .* seconds \([0-9.]*\)$/\1/p' <<< "$out" | tail -1)
  sync=$(sed -n 's/.*gradient synchronization \([0-9.]*\) s.*/\1/p' <<< "$out" | tail -1)
  straggler=$(sed -n 's/.*slower rank \([0-9.]*\) s.*/\1/p' <<< "$out" | tail -1)
  comm=$(sed -n 's/.*for communication \([0-9.]*\) s.*/\1/p' <<< "$out" | tail -1)
  batch_size=$(sed -n 's/.* batch_size \([0-9]*\) .*/\1/p' <<< "$out" | head -1)
  steps=$(( (images + batch_size - 1) / batch_size ))
  awk -v h="$1" -v o="$2" -v n="$images" -v s="$seconds" -v y="${sync:-0}" -v w="${straggler:-0}" \
    -v c="${comm:-0}" -v k="$steps" 'BEGIN { printf "hosts %d overlap %s train_images_per_s %.0f sync_ms_per_step %.2f " \
      "straggler_ms_per_step %.2f comm_ms_per_step %.2f\n", h, o, n / s, 1000 * y / k, 1000 * w / k, 1000 * c / k }'
}

echo "arch $arch images $images link ${link#--link=}${link:+ }${compression:+$compression }(one core per host)"
report 1 - "$(bazel-bin/examples/mnist_cnn "${args[@]}")"
# The sync figure mnist_cnn prints is a running total to the epoch's end, evaluation excluded.
off=$(bash distributed/two_hosts.sh $link "${args[@]}" $compression --time_communication --overlap=false 2>&1)
on=$(bash distributed/two_hosts.sh $link "${args[@]}" $compression --time_communication --overlap=true 2>&1)
line_off=$(report 2 false "$off")
line_on=$(report 2 true "$on")
echo "$line_off"
echo "$line_on"
awk -v a="$(awk '{print $12}' <<< "$line_off")" -v b="$(awk '{print $12}' <<< "$line_on")" \
  'BEGIN { if (a > 0) printf "overlap hid %.0f %% of the communication wait (%.2f -> %.2f ms per step)\n", 100 * (1 - b / a), a, b }'
