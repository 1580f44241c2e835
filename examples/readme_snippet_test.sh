#!/usr/bin/env bash
# tapegrad/examples/readme_snippet_test.sh SOURCE...: for each SOURCE, the C++ block after the
# marker "<!-- snippet: SOURCE -->" in README.md must equal the file.
set -euo pipefail
readme=README.md
for source in "$@"; do
  block=$(awk -v marker="<!-- snippet: $source -->" '$0 == marker {found=1; next} found && /^```cpp$/{inside=1; next} inside && /^```$/{exit} inside{print}' "$readme")
  if [[ -z "$block" ]]; then
    echo "README.md has no snippet block for $source" >&2
    exit 1
  fi
  if ! diff <(printf '%s\n' "$block") "$source"; then
    echo "README.md's snippet differs from $source (diff above): update the README" >&2
    exit 1
  fi
  echo "README snippet matches $source"
done
