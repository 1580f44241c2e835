#!/usr/bin/env bash
# tapegrad/bench/contention.sh [--rounds=N] [--steps=N] [--baseline=REV]: throughput when copies
# of a program share the cores (Note [Sharing the cores] in ops/parallel.h). For
#   regression  examples/regression (an MLP, 1500 Adam steps): each copy's seconds, whole process
#   cnn_small   bench/mnist_throughput --arch=cnn_small: each copy's training images/s
#   pytorch_mlp bench/pytorch_regression.py, the same MLP in Debian's PyTorch: each copy's seconds
#               (training loop only)
# it starts 1, 2 and 4 copies at once, all with their default thread count, and prints the median
# per-copy figure over N rounds (default 3) and the aggregate throughput relative to one copy
# alone (time programs: copies x the 1-copy time / the slowest copy's time; images/s: the sum /
# the 1-copy figure). Target: >= 0.9 with 2 copies. --steps: cnn_small's timed steps (default
# 400). --baseline=REV also builds tapegrad at git revision REV (a worktree in a temporary
# directory) and runs its two programs in the same rounds, rows marked "@REV".
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 steps=400 baseline=""
for arg in "$@"; do
  case $arg in
    --rounds=*) rounds=${arg#*=} ;;
    --steps=*) steps=${arg#*=} ;;
    --baseline=*) baseline=${arg#*=} ;;
    *) echo "usage: bash bench/contention.sh [--rounds=N] [--steps=N] [--baseline=REV]" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3  # Debian's interpreter, where python3-torch lives
if ! $py -c "import torch" 2>/dev/null; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch
fi
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS  # every program picks its default
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [[ -n $baseline ]] && git worktree remove --force "$tmp/baseline" 2>/dev/null || true' EXIT

build() {  # build DIR: the two tapegrad programs, optimized
  (cd "$1" && bazel build -c opt //examples:regression //bench:mnist_throughput >/dev/null 2>&1) ||
    { echo "contention.sh: build failed in $1" >&2; exit 1; }
}
build .
declare -A bin=([regression]=$PWD/bazel-bin/examples/regression [cnn_small]=$PWD/bazel-bin/bench/mnist_throughput)
programs=(regression cnn_small)
if [[ -n $baseline ]]; then
  git worktree add --detach "$tmp/baseline" "$baseline" >/dev/null 2>&1
  ln -s "$PWD/data" "$tmp/baseline/data"
  build "$tmp/baseline"
  bin[regression@$baseline]=$tmp/baseline/bazel-bin/examples/regression
  bin[cnn_small@$baseline]=$tmp/baseline/bazel-bin/bench/mnist_throughput
  programs+=("regression@$baseline" "cnn_small@$baseline")
fi
programs+=(pytorch_mlp)

# one_copy PROGRAM OUT: runs one copy, writing its figure (seconds or images/s) to OUT.
one_copy() {
  case $1 in
    regression*)
      local t0; t0=$(date +%s.%N)
      "${bin[$1]}" > "$2.log"
      awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print b - a}' > "$2" ;;
    cnn_small*)
      "${bin[$1]}" --arch=cnn_small --steps="$steps" --data_dir=data/mnist > "$2.log"
      awk '$1 == "train_images_per_s" {print $2}' "$2.log" > "$2" ;;
    pytorch_mlp)
      $py bench/pytorch_regression.py > "$2.log"
      awk '$1 == "seconds" {print $2}' "$2.log" > "$2" ;;
  esac
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for ((r = 1; r <= rounds; r++)); do
  for p in "${programs[@]}"; do
    for copies in 1 2 4; do
      for ((c = 1; c <= copies; c++)); do one_copy "$p" "$tmp/$p.$copies.$r.$c" & done
      wait
      # per round: the copies' figures (for the per-copy median) and the round's aggregate
      cat "$tmp/$p.$copies.$r".? >> "$tmp/$p.$copies.each"
      if [[ $p == cnn_small* ]]; then
        cat "$tmp/$p.$copies.$r".? | awk '{s += $1} END {print s}' > "$tmp/$p.$copies.$r.total"
      else
        cat "$tmp/$p.$copies.$r".? | sort -g | tail -1 > "$tmp/$p.$copies.$r.total"  # the slowest copy
      fi
    done
  done
done

echo "contention: 1, 2 and 4 concurrent copies, default thread counts, median of $rounds rounds; $(date +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
printf "| %-22s | %6s | %-22s | %-24s |\n" program copies "per copy (median)" "aggregate vs 1 copy"
printf "|%s|%s|%s|%s|\n" "------------------------" "--------" "------------------------" "--------------------------"
for p in "${programs[@]}"; do
  unit=s; [[ $p == cnn_small* ]] && unit="images/s"
  for copies in 1 2 4; do
    each=$(median < "$tmp/$p.$copies.each")
    ratios=()
    for ((r = 1; r <= rounds; r++)); do
      one=$(cat "$tmp/$p.1.$r.1") total=$(cat "$tmp/$p.$copies.$r.total")
      if [[ $p == cnn_small* ]]; then
        ratios+=("$(awk -v t="$total" -v o="$one" 'BEGIN {print t / o}')")
      else
        ratios+=("$(awk -v n="$copies" -v t="$total" -v o="$one" 'BEGIN {print n * o / t}')")
      fi
    done
    ratio=$(printf "%s\n" "${ratios[@]}" | median)
    printf "| %-22s | %6d | %13.2f %-8s | %24.2f |\n" "$p" "$copies" "$each" "$unit" "$ratio"
  done
done
