#!/usr/bin/env bash
# tapegrad/distributed/mpirun.sh NP PROGRAM [ARGS...]: runs PROGRAM under `mpirun -np NP` on this
# machine, the way the tests launch MPI jobs. Without mpirun (Open MPI not installed) it says so
# loudly and exits 0: tools/setup.sh installs Open MPI, so CI always runs the MPI tests.
set -euo pipefail
np=$1; shift
if ! command -v mpirun >/dev/null; then
  echo "SKIPPED: mpirun not found (install openmpi-bin: bash tools/setup.sh); $1 did not run" >&2
  exit 0
fi
# Root in containers and CI; oversubscribe: NP may exceed the cores; no core binding, so each
# rank's OpenMP threads may use the machine; no CMA single-copy (blocked in containers). Bazel's
# per-test files are per process, so the ranks must not share them.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
unset XML_OUTPUT_FILE TEST_PREMATURE_EXIT_FILE
# Under the ASan build, LeakSanitizer reports Open MPI's own allocations (kept until exit, many from
# MCA components already unloaded, so no suppression can name them): leak checking is off for MPI
# jobs; every other ASan/UBSan check stays on.
[[ -n ${ASAN_OPTIONS:-} ]] && export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
exec mpirun --oversubscribe --bind-to none -np "$np" "$@"
