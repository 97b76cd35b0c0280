#!/usr/bin/env bash
# Benchmark: `ansible-inventory --list` over N managed nodes (default 10000: two regions, half EC2,
# half hybrid, three tags each) in the local SSM endpoint, with fleetops.ssm.managed_nodes cold and
# cached (jsonfile), and amazon.aws.aws_ec2 with use_ssm_inventory on the EC2 half, in the same run.
# Prints wall time, hosts and API calls per operation side by side. Not a timed test. Neither
# configuration has keyed_groups: ansible-core compiles their expressions once per host, which costs
# the same with either plugin (about 0.7 s per 1000 hosts with ansible-core 2.19).
#
#   tests/benchmarks/inventory/run.sh [COUNT]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
count="${1:-10000}"

# shellcheck source=../../scripts/lib.sh
. "${root}/tests/scripts/lib.sh"
fleetops_lock
"${root}/tests/scripts/bootstrap.sh"
fleetops_activate
"${root}/tests/scripts/sync-collection.sh" >/dev/null

state="$(mktemp -d)"
results="${state}/results.json"
sleep 86400 &
leader=$!
cleanup() {
    kill "${leader}" 2>/dev/null || true
    "${root}/tests/endpoint/ssm-endpoint" stop --state-dir "${state}" >/dev/null 2>&1 9>&- || true
    rm -rf "${state}"
}
trap cleanup EXIT
url="$("${root}/tests/endpoint/ssm-endpoint" start --state-dir "${state}" </dev/null 9>&- | grep -Eo 'https?://[^[:space:]]+' | tail -n 1)"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export ANSIBLE_COLLECTIONS_PATH="${FLEETOPS_COLLECTIONS}" ANSIBLE_INVENTORY_UNPARSED_FAILED=true
export ANSIBLE_DEPRECATION_WARNINGS=false
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN

python "${here}/seed.py" "${url}" "${count}" "${leader}"

cat >"${state}/fleet.ssm.yml" <<YAML
plugin: fleetops.ssm.managed_nodes
endpoint_url: ${url}
regions: [us-east-1, eu-west-1]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ${state}/cache
cache_timeout: 3600
YAML
cat >"${state}/peer.aws_ec2.yml" <<YAML
plugin: amazon.aws.aws_ec2
endpoint_url: ${url}
regions: [us-east-1, eu-west-1]
use_ssm_inventory: true
hostnames: [instance-id]
YAML

echo "[]" >"${results}"
run() {
    local name="$1" plugin="$2" config="$3" start end
    shift 3
    curl -fsS -X DELETE "${url}/_fleetops/calls" >/dev/null
    start=$(date +%s.%N)
    ANSIBLE_INVENTORY_ENABLED="${plugin}" ansible-inventory -i "${config}" --list "$@" >"${state}/out.json"
    end=$(date +%s.%N)
    python - "${results}" "${name}" "${start}" "${end}" "$(curl -fsS "${url}/_fleetops/calls")" "${state}/out.json" <<'PY'
import json, sys
path, name, start, end, calls, out = sys.argv[1:]
runs = json.load(open(path))
hosts = len(json.load(open(out))["_meta"]["hostvars"])
runs.append({"name": name, "seconds": float(end) - float(start), "hosts": hosts, "calls": json.loads(calls)})
json.dump(runs, open(path, "w"))
PY
}

run "managed_nodes cold" fleetops.ssm.managed_nodes "${state}/fleet.ssm.yml" --flush-cache
run "managed_nodes cached" fleetops.ssm.managed_nodes "${state}/fleet.ssm.yml"
run "aws_ec2 + use_ssm_inventory (EC2)" amazon.aws.aws_ec2 "${state}/peer.aws_ec2.yml"

echo
echo "Inventory benchmark: ${count} managed nodes (half EC2, half hybrid), 2 regions, local SSM endpoint, $(nproc) cores"
half=$(( (count + 1) / 2 ))
python "${here}/report.py" "${results}" "${half},$(( count - half ))"
