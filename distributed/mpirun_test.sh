#!/usr/bin/env bash
# tapegrad/distributed/mpirun_test.sh NP BINARY [ARGS...]: runs BINARY under `mpirun -np NP` on
# this machine. Without mpirun (Open MPI not installed) it says so loudly and passes: tools/setup.sh
# installs Open MPI, so CI always runs it.
set -euo pipefail
np=$1; shift
if ! command -v mpirun >/dev/null; then
  echo "SKIPPED: mpirun not found (install openmpi-bin: bash tools/setup.sh); $1 did not run" >&2
  exit 0
fi
# Root in containers and CI; oversubscribe: NP may exceed the cores; no core binding, so each
# rank's OpenMP threads are free to use the machine; each rank writes its own gtest XML.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none  # no CMA inside containers
unset XML_OUTPUT_FILE TEST_PREMATURE_EXIT_FILE
exec mpirun --oversubscribe --bind-to none -np "$np" "$@"
