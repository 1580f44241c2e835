#!/usr/bin/env bash
# tapegrad/tools/install.sh: builds tapegrad and installs it under PREFIX for CMake, pkg-config
# and any other build system:
#   PREFIX/lib/libtapegrad.so{,.0.X,.0.X.Y}, PREFIX/lib/libtapegrad.a
#   PREFIX/include/tapegrad/            (-I this: #include "autograd/tapegrad.h")
#   PREFIX/lib/pkgconfig/tapegrad.pc    (pkg-config --cflags --libs tapegrad)
#   PREFIX/lib/cmake/tapegrad/          (find_package(tapegrad 0.2) -> tapegrad::tapegrad)
# Usage: bash tools/install.sh PREFIX [bazel build options...]
# The tree is laid out by //tools/install:tree (tools/install/install_tree.bzl); the files are
# relocatable, so a copied prefix keeps working.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: bash tools/install.sh PREFIX [bazel build options...]" >&2; exit 2; }
prefix=$1; shift
cd "$(dirname "$0")/.."
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

bazel build "$@" //tools/install:tree
tree="$(bazel info "$@" bazel-bin 2>/dev/null)/tools/install/tree"
version=$(head -n1 VERSION)
[[ -f $tree/lib/libtapegrad.so.$version ]] || { echo "install.sh: $tree has no libtapegrad.so.$version" >&2; exit 1; }
soname=$(objdump -p "$tree/lib/libtapegrad.so.$version" | awk '$1 == "SONAME" {print $2}')

# Headers of an older install are replaced, not merged (include/tapegrad is tapegrad's alone).
rm -rf "$prefix/include/tapegrad"
# install(1), not cp: Bazel's outputs are read-only, installed files are not.
(cd "$tree" && find . -type f) | while read -r file; do
  mode=644; [[ $file == ./lib/libtapegrad.so.* ]] && mode=755
  install -D -m "$mode" "$tree/$file" "$prefix/$file"
done
ln -sfn "libtapegrad.so.$version" "$prefix/lib/$soname"
ln -sfn "$soname" "$prefix/lib/libtapegrad.so"
echo "install.sh: tapegrad $version installed in $prefix (libtapegrad.so -> $soname)"
