#!/usr/bin/env bash
# Train the DDP digits example on this machine with 2 ranks (NPROCS=4 launch/local.sh for 4).
# Extra arguments go to the script.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v distgrad-run >/dev/null 2>&1; then
    run=(distgrad-run)
else  # distgrad not installed: run the launcher from this checkout
    run=("${PYTHON:-python3}" -m distgrad.launcher)
fi
exec "${run[@]}" -n "${NPROCS:-2}" examples/ddp_digits.py "$@"
