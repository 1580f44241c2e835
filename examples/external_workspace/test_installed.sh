#!/usr/bin/env bash
# tapegrad/examples/external_workspace/test_installed.sh: installs tapegrad to a temporary prefix
# (tools/install.sh), then builds this consumer program against the installed files three ways
# and runs each: CMake with tapegrad::tapegrad (libtapegrad.so) and tapegrad::tapegrad_static
# (libtapegrad.a), and make + pkg-config. Also checks the version handshakes (a too-new
# find_package request fails; pkg-config reports VERSION). Run by .ci/run; prints
# "installed: ok" on success.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tapegrad_installed.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
version=$(head -n1 "$root/VERSION")

bash "$root/tools/install.sh" "$prefix"
soname=$(objdump -p "$prefix/lib/libtapegrad.so.$version" | awk '$1 == "SONAME" {print $2}')
[[ $soname == "libtapegrad.so.${version%.*}" || $soname == "libtapegrad.so.${version%%.*}" ]] ||
  { echo "test_installed: unexpected SONAME '$soname'" >&2; exit 1; }

echo "== CMake"
cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" -j 2 >/dev/null
"$work/cmake/fit_and_reload" "$work/shared.tgm"
"$work/cmake/fit_and_reload_static" "$work/static.tgm"
# ldd's output is read whole first: under pipefail, `ldd | grep -q` fails when grep's early exit
# makes ldd die of SIGPIPE.
shared_deps=$(ldd "$work/cmake/fit_and_reload") static_deps=$(ldd "$work/cmake/fit_and_reload_static")
grep -q "$soname => $prefix/lib/" <<< "$shared_deps" ||
  { echo "test_installed: the CMake program does not load $prefix/lib/$soname" >&2; exit 1; }
! grep -q libtapegrad <<< "$static_deps" ||
  { echo "test_installed: the static program loads libtapegrad.so" >&2; exit 1; }

# A request for a newer minor version must fail (0.x: minor releases may break the API).
mkdir -p "$work/too_new"
sed 's/find_package(tapegrad 0.2 REQUIRED)/find_package(tapegrad 0.99 REQUIRED)/' "$here/CMakeLists.txt" > "$work/too_new/CMakeLists.txt"
cp "$here/fit_and_reload.cc" "$work/too_new/"
if cmake -S "$work/too_new" -B "$work/too_new/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  echo "test_installed: find_package(tapegrad 0.99) accepted version $version" >&2; exit 1
fi

echo "== make + pkg-config"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[[ $(pkg-config --modversion tapegrad) == "$version" ]] || { echo "test_installed: pkg-config version" >&2; exit 1; }
(cd "$work" && make -s -f "$here/Makefile" VPATH="$here" fit_and_reload)
"$work/fit_and_reload" "$work/pkgconfig.tgm"
echo "installed: ok"
