#!/usr/bin/env bash
# fleetops.ssm.managed_nodes over 10,000 managed nodes in two regions of the local SSM endpoint
# (half EC2, half hybrid, registered through the control API): every node is a host with its tags,
# the groups add up, and the API calls are the minimum (50 nodes per DescribeInstanceInformation,
# 100 per GetResources, one GetCallerIdentity). SCALE_NODES changes the count.
#
# ansible-test passes "-e @<config>.json" (aws_* variables). Against a real AWS account: skipped.
set -euo pipefail

count=${SCALE_NODES:-10000}
url=$(python - "$@" <<'PY'
import json, sys
args = sys.argv[1:]
for index, arg in enumerate(args):
    if arg == "-e" and index + 1 < len(args) and args[index + 1].startswith("@"):
        with open(args[index + 1][1:]) as fh:
            print(json.load(fh).get("aws_endpoint_url") or "")
        break
PY
)
[ -n "$url" ] || { echo "SKIP: no local SSM endpoint (real AWS)"; exit 0; }

work=$(mktemp -d "${TMPDIR:-/tmp}/inventory-scale.XXXXXX")
sleep 3600 &
leader=$!
ids="$work/ids"
cleanup() {
    python - "$url" "$ids" <<'PY' || true
import sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
url, path = sys.argv[1:]
try:
    ids = open(path).read().split()
except OSError:
    ids = []


def deregister(instance_id):
    urllib.request.urlopen(urllib.request.Request(f"{url}/_fleetops/nodes/{instance_id}", method="DELETE")).read()


with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(deregister, ids))
PY
    kill "$leader" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

SECONDS=0
python - "$url" "$count" "$leader" "$ids" <<'PY'
import hashlib, json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
url, count, leader, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def node(index):
    digest = hashlib.sha256(f"scale-{index}".encode()).hexdigest()[:17]
    ec2 = index % 4 < 2
    return {"instance_id": ("i-" if ec2 else "mi-") + digest, "resource_type": "EC2Instance" if ec2 else "ManagedInstance",
            "region": ("us-east-1", "eu-west-1")[index % 2], "leader_pid": leader, "computer_name": f"scale-{index}",
            "tags": {"Name": f"scale-{index}", "Role": ("web", "db", "app")[index % 3], "Scale": "yes"}}


def register(body):
    request = urllib.request.Request(f"{url}/_fleetops/nodes", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


nodes = [node(index) for index in range(count)]
with open(path, "w") as out:  # every id first: cleanup deletes what was registered, and what was not is a no-op
    out.writelines(body["instance_id"] + "\n" for body in nodes)
with ThreadPoolExecutor(max_workers=4) as pool:  # the endpoint serves each request in its own thread
    for future in [pool.submit(register, body) for body in nodes]:
        future.result()
PY
echo "registered $count nodes in ${SECONDS}s"

cat >"$work/scale.ssm.yml" <<YAML
plugin: fleetops.ssm.managed_nodes
access_key: testing
secret_key: testing
endpoint_url: $url
regions: [us-east-1, eu-west-1]
filters:
  tag:Scale: "yes"
keyed_groups:
  - key: tags.Role
    prefix: role
YAML

python - "$url" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(f"{sys.argv[1]}/_fleetops/calls", method="DELETE")).read()
PY
SECONDS=0
ANSIBLE_INVENTORY_ENABLED=fleetops.ssm.managed_nodes ANSIBLE_INVENTORY_UNPARSED_FAILED=true \
    ansible-inventory -i "$work/scale.ssm.yml" --list >"$work/inventory.json"
echo "ansible-inventory --list over $count nodes in ${SECONDS}s"

python - "$url" "$count" "$work/inventory.json" <<'PY'
import json, math, sys, urllib.request
url, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
inventory = json.load(open(path))
hostvars = inventory["_meta"]["hostvars"]


def plain(value):  # ansible-inventory --list writes untrusted strings as {"__ansible_unsafe": "..."}
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value



assert len(hostvars) == count, f"{len(hostvars)} hosts, expected {count}"
regions = {}
for name, host in hostvars.items():
    assert plain(host["tags"]["Name"]).startswith("scale-"), name
    region = plain(host["region"])
    regions[region] = regions.get(region, 0) + 1
assert sorted(regions) == ["eu-west-1", "us-east-1"], regions
roles = sum(len(inventory[group]["hosts"]) for group in ("role_web", "role_db", "role_app"))
assert roles == count, roles
ec2 = len(inventory["resource_ec2_instance"]["hosts"])
assert ec2 == sum(1 for index in range(count) if index % 4 < 2), ec2
with urllib.request.urlopen(f"{url}/_fleetops/calls") as response:
    calls = json.load(response)
minimum = sum(math.ceil(n / 50) + math.ceil(n / 100) for n in regions.values()) + 1
total = sum(calls.values())
print(f"calls: {calls}; total {total}, minimum {minimum}")
assert total <= 1.1 * minimum, f"{total} calls, more than 1.1 x {minimum}"
PY
echo "ok: $count hosts in 2 regions with their tags and groups, API calls within 1.1x the minimum"
