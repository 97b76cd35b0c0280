#!/usr/bin/env bash
# Benchmark: sync N parameters (default 1000) under one path against the local SSM endpoint,
# with fleetops.ssm.parameter_path and with a loop of community.aws.ssm_parameter, then an
# idempotent re-run of each. Prints wall time and API calls per operation side by side.
#
#   tests/benchmarks/parameter_sync/run.sh [COUNT]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
count="${1:-1000}"

# shellcheck source=../../scripts/lib.sh
. "${root}/tests/scripts/lib.sh"
fleetops_lock
"${root}/tests/scripts/bootstrap.sh"
fleetops_activate
"${root}/tests/scripts/sync-collection.sh" >/dev/null

state="$(mktemp -d)"
results="${state}/results.json"
trap '"${root}/tests/endpoint/ssm-endpoint" stop --state-dir "${state}" >/dev/null 2>&1 9>&- || true; rm -rf "${state}"' EXIT
url="$("${root}/tests/endpoint/ssm-endpoint" start --state-dir "${state}" </dev/null 9>&- | grep -Eo 'https?://[^[:space:]]+' | tail -n 1)"

export AWS_ENDPOINT_URL="${url}" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 ANSIBLE_COLLECTIONS_PATH="${FLEETOPS_COLLECTIONS}" ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN

echo "[]" >"${results}"
run() {
    local name="$1" playbook="$2" path="$3" start end
    curl -fsS -X DELETE "${url}/_fleetops/calls" >/dev/null
    echo "--- ${name}: ${count} parameters"
    start=$(date +%s.%N)
    ansible-playbook "${here}/${playbook}" -e "bench_path=${path}" -e "bench_count=${count}" | grep -E '"msg"|ok=' || true
    end=$(date +%s.%N)
    python - "${results}" "${name}" "${start}" "${end}" "$(curl -fsS "${url}/_fleetops/calls")" <<'PY'
import json, sys
path, name, start, end, calls = sys.argv[1:]
runs = json.load(open(path))
runs.append({"name": name, "seconds": float(end) - float(start), "calls": json.loads(calls)})
json.dump(runs, open(path, "w"))
PY
}

run ours-first ours.yml /bench/ours
run peer-first peer.yml /bench/peer
run ours-rerun ours.yml /bench/ours
run peer-rerun peer.yml /bench/peer

echo
echo "Parameter sync benchmark: ${count} parameters, local SSM endpoint, $(nproc) cores"
python "${here}/report.py" "${results}"
