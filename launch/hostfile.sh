#!/usr/bin/env bash
# Train the DDP digits example across the hosts of a hostfile.
#
#   launch/hostfile.sh HOSTFILE NPROCS PPN [script arguments...]
#   launch/hostfile.sh launch/hostfile.example 8 4
#
# NPROCS ranks in all, PPN on each host (each rank gets cores/PPN BLAS threads).
set -euo pipefail
usage="usage: $0 HOSTFILE NPROCS PPN [script arguments...]"
hostfile=$(realpath "${1:?$usage}")
nprocs=${2:?$usage}
ppn=${3:?$usage}
shift 3
cd "$(dirname "$0")/.."
if command -v distgrad-run >/dev/null 2>&1; then
    run=(distgrad-run)
else
    run=("${PYTHON:-python3}" -m distgrad.launcher)
fi
exec "${run[@]}" -n "$nprocs" --hostfile "$hostfile" --ppn "$ppn" examples/ddp_digits.py "$@"
