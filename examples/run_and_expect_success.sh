#!/usr/bin/env bash
# tapegrad/examples/run_and_expect_success.sh: runs an example binary with its arguments; the
# example's own exit status says whether it reached its target.
set -euo pipefail
"$@"
