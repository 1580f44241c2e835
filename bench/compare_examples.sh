#!/usr/bin/env bash
# tapegrad/bench/compare_examples.sh [EPOCHS] [THREADS] [NAME...]: examples that have a PyTorch twin
# (examples/pytorch/NAME.py: the same recipe and data, run with Debian's PyTorch), each side for
# EPOCHS epochs (default 2) with THREADS threads (default 2), one after the other in one run; a
# Markdown table of the quality each printed after its last epoch and the training speed ratio
# (PyTorch's seconds / tapegrad's, summed over the epochs). Run from the repository root after
# tools/setup.sh. Twins (all of them unless NAMEs are given): vae (test negative ELBO, nats per
# image: lower is better), mnist_rnn and fashion_resnet (test accuracy), char_gpt (validation loss,
# nats per byte: lower is better; an epoch is 200 steps), dcgan (the judge's sample_confidence;
# class_coverage is in the logs), siamese (pair accuracy), char_lm (LSTM, validation bits per byte),
# time_sequence_prediction (test MSE, the mean of seeds 0 to 3; EPOCHS counts its L-BFGS
# steps; both sides start from tapegrad's initial weights), custom_dataset (test accuracy on make_shapes' PNG folder,
# written to data/shapes if missing; the twin reads it with Pillow) and transfer_learning (test
# accuracy on Fashion-MNIST of a new head on the frozen MNIST classifier PyTorch trained,
# tests/reference/onnx_models/mnist_cnn; the twin runs the ONNX graph in PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2} threads=${2:-2}
shift $(($# < 2 ? $# : 2))
declare -A metric=([vae]=test_loss [mnist_rnn]=test_accuracy [fashion_resnet]=test_accuracy
                   [char_gpt]=validation_loss [dcgan]=sample_confidence [siamese]=pair_accuracy
                   [char_lm]=validation_bits_per_byte [time_sequence_prediction]=test_loss
                   [custom_dataset]=test_accuracy [transfer_learning]=test_accuracy)
# The data flag each example (and its twin) takes.
declare -A data=([vae]=--data_dir=data/mnist [mnist_rnn]=--data_dir=data/mnist
                 [fashion_resnet]=--data_dir=/usr/share/datasets/fashion-mnist [char_gpt]=--data=/usr/share/games/fortunes
                 [dcgan]=--data_dir=data/mnist [siamese]=--data_dir=/usr/share/datasets/fashion-mnist
                 [char_lm]=--data=/usr/share/games/fortunes [time_sequence_prediction]=
                 [custom_dataset]=--data_dir=data/shapes
                 [transfer_learning]=--data_dir=/usr/share/datasets/fashion-mnist)
# What an "epoch" is called on the command line (time_sequence_prediction counts L-BFGS steps).
declare -A rounds=([time_sequence_prediction]=--steps)
names=("$@")
[[ ${#names[@]} -gt 0 ]] ||
  names=(vae mnist_rnn fashion_resnet char_gpt char_lm dcgan siamese time_sequence_prediction custom_dataset
         transfer_learning)
for name in "${names[@]}"; do
  [[ -n ${metric[$name]:-} ]] || { echo "compare_examples.sh: no twin named $name (known: ${!metric[*]})" >&2; exit 2; }
done
source bench/compare_common.sh
# shellcheck disable=SC2207  # word splitting of the package list is intended
need=($(torch_packages))
[[ " ${names[*]} " == *" custom_dataset "* ]] && ! $py -c "import PIL" 2>/dev/null && need+=(python3-pil)
[[ " ${names[*]} " == *" transfer_learning "* ]] && need+=($(onnx_packages))
install_missing "${need[@]}"
bazel build -c opt "${names[@]/#/\/\/examples:}" //examples:make_shapes >/dev/null 2>&1
[[ -d data/shapes ]] || bazel-bin/examples/make_shapes --dir="$PWD/data/shapes" >/dev/null
export OMP_NUM_THREADS=$threads
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "tapegrad examples vs their PyTorch twins, $epochs epochs, $threads threads; $(date +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
echo "| example | figure | tapegrad | PyTorch | training speed (PyTorch s / tapegrad s) |"
echo "|---|---|---|---|---|"
# value FILE FIELD: FIELD's value on the last epoch line; seconds FILE: the epochs' seconds summed;
# mean X...: their mean.
value() { awk -v f="$2" '{for (i = 1; i < NF; ++i) if ($i == f) v = $(i + 1)} END {print v}' "$1"; }
seconds() { awk '{s += $NF} END {print s}' "$1"; }
mean() { printf '%s\n' "$@" | awk '{s += $1} END {printf "%.6g\n", s / NR}'; }
# Flags both sides take: time_sequence_prediction's twin starts from tapegrad's initial weights.
declare -A shared=([time_sequence_prediction]=--initial_weights=$tmp/initial_weights
                   [transfer_learning]=--backbone=tests/reference/onnx_models/mnist_cnn/model.onnx)
# Seeds each side runs (the row shows the quality's mean and the seconds' sum; the values per seed
# follow the table). One L-BFGS run's final MSE depends on where it happens to stall: from the same
# initial weights the two sides agree to 5-6 digits for five steps, then float rounding sends them
# down different paths (after 15 steps, seed 2: tapegrad 12 % below PyTorch, seed 3: 39 % above),
# so that row is a mean of four.
declare -A seeds=([time_sequence_prediction]="0 1 2 3")
per_seed=()
for name in "${names[@]}"; do
  f=${metric[$name]}
  tg_values=() pt_values=()
  : > "$tmp/$name.tg.all"
  : > "$tmp/$name.pt.all"
  for seed in ${seeds[$name]:-default}; do
    args=(${data[$name]:+"${data[$name]}"} "${rounds[$name]:---epochs}=$epochs" ${shared[$name]:+"${shared[$name]}"})
    [[ $seed == default ]] || args+=(--seed="$seed")
    "bazel-bin/examples/$name" "${args[@]}" | tr '\r' '\n' | grep -E "^(epoch|step) .* seconds" > "$tmp/$name.tg"
    $py "examples/pytorch/$name.py" "${args[@]}" --threads="$threads" | grep -E "^(epoch|step) .* seconds" > "$tmp/$name.pt"
    tg_values+=("$(value "$tmp/$name.tg" "$f")")
    pt_values+=("$(value "$tmp/$name.pt" "$f")")
    cat "$tmp/$name.tg" >> "$tmp/$name.tg.all"
    cat "$tmp/$name.pt" >> "$tmp/$name.pt.all"
  done
  what="$f"
  if [[ ${#tg_values[@]} -gt 1 ]]; then
    what="mean $f of ${#tg_values[@]} seeds"
    per_seed+=("$name, $f per seed (${seeds[$name]}): tapegrad ${tg_values[*]}; PyTorch ${pt_values[*]}")
  fi
  awk -v n="$name" -v f="$what" -v e="$epochs" -v a="$(mean "${tg_values[@]}")" -v b="$(mean "${pt_values[@]}")" \
    -v ta="$(seconds "$tmp/$name.tg.all")" -v tb="$(seconds "$tmp/$name.pt.all")" \
    'BEGIN { printf "| %s | %s after %d %s | %s | %s | %.2f (%.0f s vs %.0f s) |\n", n, f, e,
             n == "time_sequence_prediction" ? "L-BFGS steps" : "epochs", a, b, tb / ta, tb, ta }'
done
[[ ${#per_seed[@]} -eq 0 ]] || { echo; printf '%s\n' "${per_seed[@]}"; }
