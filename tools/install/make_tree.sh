#!/usr/bin/env bash
# tapegrad/tools/install/make_tree.sh: run by the install_tree rule (install_tree.bzl). Given a
# manifest of tapegrad's archives, headers, defines and system link flags, it lays out
#   lib/libtapegrad.so.X.Y.Z  (SONAME libtapegrad.so.X.Y in 0.x, libtapegrad.so.X from 1.0)
#   lib/libtapegrad.a         (one pre-linked object: any use pulls in every op row)
#   include/tapegrad/...      (the public and generated headers)
#   lib/pkgconfig/tapegrad.pc, lib/cmake/tapegrad/tapegradConfig{,Version}.cmake (relocatable)
# Usage: make_tree.sh OUT_DIR MANIFEST VERSION_FILE CC AR (CC: the toolchain's gcc driver, hence
# the explicit -lstdc++ as Bazel's own C++ links have).
set -euo pipefail
out=$1 manifest=$2 version_file=$3 cxx=$4 ar=$5

version=$(head -n1 "$version_file")
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || { echo "make_tree.sh: VERSION '$version' is not X.Y.Z" >&2; exit 1; }
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
# Semantic versioning: before 1.0 a minor release may break the ABI, so the SONAME carries it.
if ((major == 0)); then soname=libtapegrad.so.0.$minor; else soname=libtapegrad.so.$major; fi

archives=() defines=() public_flags=() private_flags=()
mkdir -p "$out/lib/pkgconfig" "$out/lib/cmake/tapegrad" "$out/include/tapegrad"
while read -r kind a b; do
  case $kind in
    archive) archives+=("$a") ;;
    header) mkdir -p "$out/include/tapegrad/$(dirname "$b")"; cp "$a" "$out/include/tapegrad/$b" ;;
    define) defines+=("$a") ;;
    public_flag) public_flags+=("$a") ;;
    private_flag) private_flags+=("$a") ;;
    *) echo "make_tree.sh: bad manifest line '$kind $a $b'" >&2; exit 1 ;;
  esac
done < "$manifest"
((${#archives[@]})) || { echo "make_tree.sh: no archives in $manifest" >&2; exit 1; }

# The shared library: every archive whole, and nothing left undefined (a missing system library
# fails here, not in a user's link).
"$cxx" -shared -o "$out/lib/libtapegrad.so.$version" -Wl,-soname,"$soname" -Wl,--no-undefined \
  -Wl,--whole-archive "${archives[@]}" -Wl,--no-whole-archive \
  "${public_flags[@]}" "${private_flags[@]}" -fopenmp -lstdc++ -lm
# The static library: one relocatable object, so that linking it takes all of tapegrad (the op
# rows register themselves from objects nothing references by name).
"$cxx" -r -nostdlib -o "$out/lib/tapegrad.o" -Wl,--whole-archive "${archives[@]}" -Wl,--no-whole-archive
rm -f "$out/lib/libtapegrad.a"
"$ar" rcs "$out/lib/libtapegrad.a" "$out/lib/tapegrad.o"
rm "$out/lib/tapegrad.o"

cflags="-I\${includedir} -fopenmp"
cmake_defines=""
for d in "${defines[@]}"; do cflags+=" -D$d"; cmake_defines+="${cmake_defines:+;}$d"; done
join_cmake() { local IFS=';'; echo "$*"; }

cat > "$out/lib/pkgconfig/tapegrad.pc" <<PC
# tapegrad $version. Compile with -std=c++20 or later (the headers refuse an older standard).
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include/tapegrad

Name: tapegrad
Description: define-by-run autograd, neural networks and ONNX export for C++
Version: $version
Cflags: $cflags
Libs: -L\${libdir} -ltapegrad ${public_flags[*]} -fopenmp
Libs.private: ${private_flags[*]}
PC

cat > "$out/lib/cmake/tapegrad/tapegradConfig.cmake" <<CMAKE
# tapegrad $version: find_package(tapegrad 0.$minor REQUIRED), then link tapegrad::tapegrad
# (libtapegrad.so) or tapegrad::tapegrad_static (libtapegrad.a). Both need C++20.
get_filename_component(_tapegrad_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
# One imported target: the library file and what a program that includes tapegrad needs.
function(_tapegrad_imported_target name type location link_libraries)
  add_library(\${name} \${type} IMPORTED)
  set_target_properties(\${name} PROPERTIES
    IMPORTED_LOCATION "\${location}"
    INTERFACE_INCLUDE_DIRECTORIES "\${_tapegrad_prefix}/include/tapegrad"
    INTERFACE_COMPILE_DEFINITIONS "$cmake_defines"
    INTERFACE_COMPILE_FEATURES "cxx_std_20"
    INTERFACE_COMPILE_OPTIONS "-fopenmp"
    INTERFACE_LINK_LIBRARIES "\${link_libraries}")
endfunction()
if(NOT TARGET tapegrad::tapegrad)
  _tapegrad_imported_target(tapegrad::tapegrad SHARED "\${_tapegrad_prefix}/lib/libtapegrad.so.$version"
    "$(join_cmake "${public_flags[@]}" -fopenmp)")
  set_target_properties(tapegrad::tapegrad PROPERTIES IMPORTED_SONAME "$soname")
  _tapegrad_imported_target(tapegrad::tapegrad_static STATIC "\${_tapegrad_prefix}/lib/libtapegrad.a"
    "$(join_cmake "${public_flags[@]}" "${private_flags[@]}" -fopenmp)")
endif()
unset(_tapegrad_prefix)
CMAKE

cat > "$out/lib/cmake/tapegrad/tapegradConfigVersion.cmake" <<CMAKE
# tapegrad $version, semantic versioning: a request is met by the same major version (the same
# minor too before 1.0) that is at least as new.
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION
   AND PACKAGE_FIND_VERSION_MAJOR EQUAL $major
   AND (NOT $major EQUAL 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL $minor))
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
if(NOT CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(PACKAGE_VERSION "\${PACKAGE_VERSION} (64-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
CMAKE
