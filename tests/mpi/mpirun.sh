#!/usr/bin/env bash
# Runs a command under mpirun for the tests of label `mpi`: N ranks on this machine, more
# than its cores if need be, as root too (Open MPI refuses root unless told), and without the
# single-copy shared-memory mechanism that containers often forbid (ptrace). A watchdog ends
# the whole job after LIMIT seconds, so that a hang fails instead of holding CI.
# Usage: mpirun.sh N LIMIT command [args...]
set -euo pipefail
ranks=$1 limit=$2
shift 2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
exec timeout --kill-after=10 "$limit" mpirun -np "$ranks" --oversubscribe --bind-to none "$@"
