#!/usr/bin/env bash
# tapegrad/examples/readme_snippet_test.sh: the C++ block after the marker
# "<!-- snippet: examples/regression.cc -->" in README.md must equal examples/regression.cc.
set -euo pipefail
readme=README.md
source=examples/regression.cc
block=$(awk '/<!-- snippet: examples\/regression.cc -->/{found=1; next} found && /^```cpp$/{inside=1; next} inside && /^```$/{exit} inside{print}' "$readme")
if [[ -z "$block" ]]; then
  echo "README.md has no snippet block for $source" >&2
  exit 1
fi
if ! diff <(printf '%s\n' "$block") "$source"; then
  echo "README.md's training-loop snippet differs from $source (diff above): update the README" >&2
  exit 1
fi
echo "README snippet matches $source"
