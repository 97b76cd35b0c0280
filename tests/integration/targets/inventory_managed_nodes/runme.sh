#!/usr/bin/env bash
# fleetops.ssm.managed_nodes against the local SSM endpoint: nodes registered through its control
# API, one playbook per scenario (hostvars and groups, two regions, filters, overrides, extras),
# then the cache (a hit makes no API call), throttling, and configuration errors.
#
# ansible-test passes "-e @<config>.json" (aws_* variables); they reach every playbook. Against a
# real AWS account (no aws_endpoint_url) nodes cannot be registered: the target is skipped.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

endpoint=$(python - "$@" <<'PY'
import json, sys
args = sys.argv[1:]
for index, arg in enumerate(args):
    if arg == "-e" and index + 1 < len(args) and args[index + 1].startswith("@"):
        with open(args[index + 1][1:]) as fh:
            print(json.load(fh).get("aws_endpoint_url") or "")
        break
PY
)
if [ -z "$endpoint" ]; then
    echo "SKIP: no local SSM endpoint (aws_endpoint_url); nodes cannot be registered in a real account"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/inventory-managed-nodes.XXXXXX")
sleep 3600 &
leader=$!
nodes="mi-0a00000000000a001 mi-0a00000000000a002 mi-0a00000000000a003 i-0a00000000000e001 mi-0a00000000000a004 mi-0a00000000000b001"
cleanup() {
    for node in $nodes; do control DELETE "/nodes/$node" >/dev/null || true; done
    control DELETE /faults >/dev/null || true
    kill "$leader" 2>/dev/null || true
    rm -rf "$work"
}
control() { # METHOD PATH [JSON]
    python - "$endpoint" "$@" <<'PY'
import json, sys, urllib.request
url, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
request = urllib.request.Request(f"{url}/_fleetops{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request) as response:
    print(response.read().decode())
PY
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

marker="$work/template-was-evaluated"
ansible-playbook playbooks/setup.yml -e "leader_pid=$leader" -e "inventory_dir_out=$work" -e "marker=$marker" "$@"

export ANSIBLE_INVENTORY_ENABLED=fleetops.ssm.managed_nodes
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true

# Seed what the extras read: a patch state, applications and a custom inventory type.
control POST /patch-states '{"instance_id": "mi-0a00000000000a001", "patch_group": "web-prod", "operating_system": "DEBIAN",
  "operation": "Scan", "patches": [{"title": "openssl", "state": "Missing"}, {"title": "bash", "state": "Installed"}]}' >/dev/null
python - "$endpoint" <<'PY'
import sys
import boto3
ssm = boto3.client("ssm", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing",
                   aws_secret_access_key="testing")
ssm.put_inventory(InstanceId="mi-0a00000000000a001", Items=[
    {"TypeName": "AWS:Application", "SchemaVersion": "1.1", "CaptureTime": "2026-01-02T03:04:05Z",
     "Content": [{"Name": name, "Version": "1.0"} for name in ("bash", "curl", "openssl")]},
    {"TypeName": "Custom:RackInfo", "SchemaVersion": "1.0", "CaptureTime": "2026-01-02T03:04:05Z",
     "Content": [{"Rack": "r12", "Slot": "4"}]},
])
PY

for scenario in basic all filtered overrides extras; do
    echo "== scenario $scenario"
    ansible-playbook -i "$work/$scenario.ssm.yml" "playbooks/test_$scenario.yml" "$@"
done

echo "== cache: a hit makes no API call"
control DELETE /calls >/dev/null
ansible-inventory -i "$work/cached.ssm.yml" --list >"$work/cold.json"
cold=$(control GET /calls)
echo "cold: $cold"
case $cold in *DescribeInstanceInformation*) ;; *) fail "the cold run made no DescribeInstanceInformation call" ;; esac
control DELETE /calls >/dev/null
ansible-inventory -i "$work/cached.ssm.yml" --list >"$work/cached.json"
cached=$(control GET /calls)
echo "cached: $cached"
[ "$cached" = "{}" ] || fail "the cached run made API calls: $cached"
cmp "$work/cold.json" "$work/cached.json" || fail "the cached inventory differs from the cold one"
ansible-inventory -i "$work/cached.ssm.yml" --list --flush-cache >/dev/null
case $(control GET /calls) in *DescribeInstanceInformation*) ;; *) fail "--flush-cache did not refresh" ;; esac

echo "== throttling is ridden out"
control POST /faults '{"operation": "DescribeInstanceInformation", "kind": "throttle", "count": 3}' >/dev/null
control POST /faults '{"service": "tagging", "operation": "GetResources", "kind": "throttle", "count": 2}' >/dev/null
ansible-playbook -i "$work/basic.ssm.yml" playbooks/test_basic.yml "$@"
[ "$(control GET /faults)" = '{"faults": []}' ] || fail "injected faults were not all used"

echo "== configuration errors name the option"
expect_error() { # CONFIG TEXT
    local rc=0
    ansible-inventory -i "$work/$1.ssm.yml" --list >"$work/$1.out" 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || { cat "$work/$1.out"; fail "$1 did not fail"; }
    grep -q -- "$2" "$work/$1.out" || { cat "$work/$1.out"; fail "$1: no '$2' in the error"; }
    echo "ok: $1: $(grep -o -- "$2.*" "$work/$1.out" | head -n 1)"
}
expect_error bad_region "regions: unknown region(s) us-nowhere-9"
expect_error bad_filter "filters: unknown filter key 'PingState'"
expect_error bad_hostnames "hostnames: the entry 'dns_name' matches nothing"
expect_error unnamed "hostnames: no entry names the node"

[ ! -e "$marker" ] || fail "a template in a tag value was evaluated"
echo "ok: the template in a tag value was never evaluated"
