#!/usr/bin/env bash
# Schemathesis against the OpenAPI document for each of the seven roles (see fuzz.py).
#   bash benches/reliability/fuzz.sh                    # CI budget: MAX_EXAMPLES=3, ~4 minutes
#   MAX_EXAMPLES=50 ROLE_TIMEOUT=600 bash benches/reliability/fuzz.sh
# Needs python3 (3.11+, with venv) and coreutils' timeout; creates target/reliability/venv.
set -euo pipefail
exec python3 "$(dirname "$0")/fuzz.py" "$@"
