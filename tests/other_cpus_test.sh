#!/usr/bin/env bash
# tapegrad/tests/other_cpus_test.sh: the default (portable) build runs on CPUs other than the one it
# was built on. Each test binary given runs under QEMU's user-mode emulation (Debian qemu-user)
# posing as an AMD Zen 3 (EPYC-Milan: AVX2 + FMA, no AVX-512) and as an Intel Nehalem
# (x86-64-v2: no AVX), where an instruction of a higher level would stop it with SIGILL; the
# per-ISA kernels must pick avx2 and baseline there (//ops:cpu_isa_test prints its level).
# Usage: other_cpus_test.sh TEST_BINARY...
set -euo pipefail
command -v qemu-x86_64 >/dev/null || { echo "other_cpus_test: qemu-x86_64 missing (bash tools/setup.sh)" >&2; exit 1; }
for cpu_and_level in EPYC-Milan:avx2 Nehalem:baseline; do
  cpu=${cpu_and_level%%:*} level=${cpu_and_level##*:}
  for binary in "$@"; do
    log=$(mktemp)
    # QEMU warns about host CPU features its emulation lacks (pcid, x2apic...): not ours.
    if ! qemu-x86_64 -cpu "$cpu" "$binary" > "$log" 2>&1; then
      grep -v '^qemu-x86_64: warning' "$log" | tail -20
      echo "other_cpus_test: $(basename "$binary") failed on $cpu" >&2
      exit 1
    fi
    if grep -q '^detected ISA level:' "$log" && ! grep -q "^detected ISA level: $level " "$log"; then
      grep '^detected ISA level' "$log"
      echo "other_cpus_test: $(basename "$binary") on $cpu should use level $level" >&2
      exit 1
    fi
    echo "$(basename "$binary") on $cpu: ok $(grep '^detected ISA level' "$log" || true)"
    rm -f "$log"
  done
done
