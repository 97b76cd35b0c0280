#!/usr/bin/env bash
# Benchmark: fleetops.ssm.managed_nodes over N managed nodes (default 10000: two regions, half EC2,
# half hybrid, three tags each) in the local SSM endpoint, with amazon.aws.aws_ec2 and
# use_ssm_inventory on the EC2 half in the same run. Not a timed test. Prints wall and CPU time,
# hosts and API calls per operation side by side:
#   - `ansible-inventory --list`, cold and cached (jsonfile), as the issue measures it;
#   - the cached inventory as a playbook loads it (`ansible-playbook --list-hosts`: inventory loaded,
#     no task run), which is what every run of a playbook pays;
#   - both commands over a static YAML inventory of the same host names without any variable: what
#     ansible-core itself costs for that many hosts, whatever the inventory source.
# Neither plugin configuration has keyed_groups: ansible-core compiles their expressions once per host,
# which costs the same with either plugin.
#
# Each managed_nodes and static run is repeated BENCH_ROUNDS times (default 3) and the best kept: the
# machines are shared, and a busy neighbour only ever adds time. aws_ec2 runs once (it takes minutes).
#
#   [BENCH_ROUNDS=3] tests/benchmarks/inventory/run.sh [COUNT]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
count="${1:-10000}"
rounds="${BENCH_ROUNDS:-3}"

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
load="$(cut -d" " -f1-3 /proc/loadavg)"

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

cat >"${state}/play.yml" <<'YAML'
- name: Load the inventory
  hosts: all
  gather_facts: false
  tasks: []
YAML

echo "[]" >"${results}"
run() { # NAME PLUGIN OUTPUT COMMAND...
    local name="$1" plugin="$2" output="$3"
    shift 3
    ANSIBLE_INVENTORY_ENABLED="${plugin}" python "${here}/measure.py" "${results}" "${name}" "${url}" "${output}" -- "$@"
}

fleet="${state}/fleet.ssm.yml"
for round in $(seq "${rounds}"); do
    echo "round ${round} of ${rounds}"
    run "managed_nodes cold" fleetops.ssm.managed_nodes "${state}/cold.json" \
        ansible-inventory -i "${fleet}" --list --flush-cache
    run "managed_nodes cached" fleetops.ssm.managed_nodes "${state}/cached.json" ansible-inventory -i "${fleet}" --list
    run "managed_nodes cached, playbook load" fleetops.ssm.managed_nodes "${state}/play.out" \
        ansible-playbook -i "${fleet}" --list-hosts "${state}/play.yml"

    # ansible-core alone: the same host names, no variable, no group, from a static file.
    python - "${state}/cached.json" "${state}/static.yml" <<'PY'
import json, sys
hosts = json.load(open(sys.argv[1]))["_meta"]["hostvars"]
with open(sys.argv[2], "w") as out:
    out.write("all:\n  hosts:\n" + "".join(f"    {name}:\n" for name in hosts))
PY
    run "static YAML, same hosts, no vars: --list" yaml "${state}/static.json" \
        ansible-inventory -i "${state}/static.yml" --list
    run "static YAML, same hosts: playbook load" yaml "${state}/static.out" \
        ansible-playbook -i "${state}/static.yml" --list-hosts "${state}/play.yml"
done

run "aws_ec2 + use_ssm_inventory (EC2)" amazon.aws.aws_ec2 "${state}/peer.json" \
    ansible-inventory -i "${state}/peer.aws_ec2.yml" --list

echo
echo "Inventory benchmark: ${count} managed nodes (half EC2, half hybrid), 2 regions, local SSM endpoint, $(nproc) cores"
echo "load average before the runs: ${load}; best of ${rounds} rounds (aws_ec2: one run)"
half=$(( (count + 1) / 2 ))
python "${here}/report.py" "${results}" "${half},$(( count - half ))"
