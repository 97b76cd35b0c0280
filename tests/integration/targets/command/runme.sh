#!/usr/bin/env bash
# fleetops.ssm.command through ansible-playbook: AWS-RunShellScript for real on three sandbox nodes
# registered with the local SSM endpoint, and 120 "instant" nodes of the endpoint (their steps end
# at once, printing the node's name) for more than 50 instance ids. Needs root (the sandbox).
#
# ansible-test passes "-e @<config>" (aws_* variables) and -v flags; they reach the playbook.
# Against a real AWS account there is no sandbox: skipped.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script_args=("$@")
fail() { echo "FAIL: $*" >&2; exit 1; }

# A variable of the "-e @file" arguments (ansible-test's config, YAML or JSON).
config_var() {
    python3 - "$1" "${script_args[@]}" <<'PY'
import json, sys
name, args = sys.argv[1], sys.argv[2:]
for index, arg in enumerate(args[1:]):
    if args[index] == "-e" and arg.startswith("@"):
        text = open(arg[1:]).read()
        try:
            import yaml
            data = yaml.safe_load(text)
        except ImportError:
            data = json.loads(text)
        if (data or {}).get(name):
            print(data[name])
            break
PY
}

url=$(config_var aws_endpoint_url)
[ -n "$url" ] || { echo "SKIP: no local SSM endpoint (real AWS): the sandbox nodes need it"; exit 0; }
[ "$(id -u)" -eq 0 ] || fail "needs root (the sandbox nodes)"

# ansible-test runs a copy of the target; the collection is under ANSIBLE_COLLECTIONS_PATH.
collection=""
for p in ${ANSIBLE_COLLECTIONS_PATH//:/ }; do
    if [ -x "$p/ansible_collections/fleetops/ssm/tests/sandbox/fleet" ]; then
        collection=$p/ansible_collections/fleetops/ssm
        break
    fi
done
[ -n "$collection" ] || collection=$(cd "$here/../../../.." && pwd)
[ -x "$collection/tests/sandbox/fleet" ] || fail "tests/sandbox/fleet not found (collection: $collection)"
if [ -z "${FLEETOPS_CACHE:-}" ] && [ -f "$(dirname "$HOME")/sandbox/rootfs-bookworm.stamp" ]; then
    FLEETOPS_CACHE=$(dirname "$HOME") # ansible-test's HOME is $FLEETOPS_CACHE/home: reuse the cached rootfs
    export FLEETOPS_CACHE
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/command-target.XXXXXX")
team="command-$$"
fleet() { "$collection/tests/sandbox/fleet" "$1" --state-dir "$work/fleet" "${@:2}"; }
leader=""
cleanup() {
    local rc=$?
    fleet down >/dev/null 2>&1 || true
    if [ -f "$work/instant.json" ]; then
        python3 - "$url" "$work/instant.json" <<'PY' || true
import json, sys, urllib.request
url, path = sys.argv[1:]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for instance_id in json.load(open(path))["instant_ids"]:
    opener.open(urllib.request.Request(f"{url}/_fleetops/nodes/{instance_id}", method="DELETE")).read()
PY
    fi
    [ -z "$leader" ] || kill "$leader" 2>/dev/null || true
    rm -rf "$work"
    return $rc
}
trap cleanup EXIT

fleet up -n 3 --endpoint "$url" --tags "Team=$team" >"$work/fleet-up.log" 2>&1 ||
    { cat "$work/fleet-up.log"; fail "fleet up failed"; }
fleet ls --json >"$work/fleet.json"

# 120 instant nodes sharing one leader process: online while it lives.
sleep 3600 &
leader=$!
python3 - "$url" "$leader" "$team" "$work/fleet.json" >"$work/instant.json" <<'PY'
import hashlib, json, sys, urllib.request
url, leader, team, fleet = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ids = []
for index in range(120):
    instance_id = "mi-" + hashlib.sha256(f"{team}-{index}".encode()).hexdigest()[:17]
    body = {"instance_id": instance_id, "name": f"instant-{index}", "computer_name": f"instant-{index}",
            "leader_pid": leader, "executor": "instant", "tags": {"Name": f"instant-{index}", "Team": f"{team}-instant"}}
    request = urllib.request.Request(f"{url}/_fleetops/nodes", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    opener.open(request).read()
    ids.append(instance_id)
nodes = sorted(json.load(open(fleet))["nodes"], key=lambda node: node["name"])
print(json.dumps({"instant_ids": ids, "team": team, "sandbox_ids": [node["instance_id"] for node in nodes],
                  "sandbox_names": [node["name"] for node in nodes]}))
PY

export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
ansible-playbook "$here/playbooks/command.yml" -e "@$work/instant.json" "$@"
echo "command: all checks passed in ${SECONDS}s"
