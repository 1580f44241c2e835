#!/usr/bin/env bash
# tapegrad/examples/external_workspace/test.sh: builds this separate workspace, which depends on
# tapegrad through nothing but its WORKSPACE lines, from a clean output base, and runs its
# program. Run by .ci/run; prints "external_workspace: ok" on success.
set -euo pipefail
cd "$(dirname "$0")"
output_base=$(mktemp -d /tmp/tapegrad_external.XXXXXX)
tgm=$(mktemp /tmp/tapegrad_external_model.XXXXXX.tgm)
cleanup() {
  bazel --output_base="$output_base" shutdown >/dev/null 2>&1 || true
  rm -rf "$output_base" "$tgm"
}
trap cleanup EXIT
# --symlink_prefix=/: no bazel-* links inside tapegrad's own tree. The process-wrapper sandbox (as
# in tapegrad's own .bazelrc): Debian's linux-sandbox prints thousands of debug lines per build.
bazel --output_base="$output_base" build --symlink_prefix=/ --spawn_strategy=processwrapper-sandbox //:fit_and_reload
binary="$(bazel --output_base="$output_base" info --symlink_prefix=/ bazel-bin 2>/dev/null)/fit_and_reload"
"$binary" "$tgm"
echo "external_workspace: ok"
