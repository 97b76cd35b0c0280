#!/usr/bin/env bash
# An inventory built by fleetops.ssm.managed_nodes from real sandbox nodes, then `ansible -m ping`
# through it over the fleetops.ssm.session connection plugin, with nothing but the inventory's
# connection defaults. Needs root (the sandbox and the session-manager-plugin stand-in).
#
# ansible-test passes "-e @<config>.json" (aws_* variables). Against a real AWS account there is
# no sandbox: skipped.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

url=$(python3 - "$@" <<'PY'
import json, sys
args = sys.argv[1:]
for index, arg in enumerate(args):
    if arg == "-e" and index + 1 < len(args) and args[index + 1].startswith("@"):
        with open(args[index + 1][1:]) as fh:
            print(json.load(fh).get("aws_endpoint_url") or "")
        break
PY
)
[ -n "$url" ] || { echo "SKIP: no local SSM endpoint (real AWS): the sandbox nodes need it"; exit 0; }
[ "$(id -u)" -eq 0 ] || fail "needs root (the sandbox nodes and the plugin stand-in)"

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
    FLEETOPS_CACHE=$(dirname "$HOME")  # ansible-test's HOME is $FLEETOPS_CACHE/home: reuse the cached rootfs
    export FLEETOPS_CACHE
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/inventory-sandbox.XXXXXX")
fleet() { "$collection/tests/sandbox/fleet" "$1" --state-dir "$work/fleet" "${@:2}"; }
cleanup() {
    local rc=$?
    fleet down >/dev/null 2>&1 || true
    rm -rf "$work"
    return $rc
}
trap cleanup EXIT

fleet up -n 2 --endpoint "$url" --tags "Team=inventory-sandbox" >"$work/fleet-up.log" 2>&1 ||
    { cat "$work/fleet-up.log"; fail "fleet up failed"; }

cat >"$work/sandbox.ssm.yml" <<YAML
plugin: fleetops.ssm.managed_nodes
access_key: testing
secret_key: testing
endpoint_url: $url
regions: [us-east-1]
filters:
  tag:Team: inventory-sandbox
hostnames: ["tag:Name", instance_id]
compose:
  ansible_python_interpreter: "'/usr/bin/python3'"
YAML

export ANSIBLE_INVENTORY_ENABLED=fleetops.ssm.managed_nodes ANSIBLE_INVENTORY_UNPARSED_FAILED=true
export FLEETOPS_SSM_SESSION_PLUGIN=$collection/tests/endpoint/bin/session-manager-plugin
export FLEETOPS_SSM_CONTROL_PATH_DIR=$work/cp
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

ansible-inventory -i "$work/sandbox.ssm.yml" --graph | tee "$work/graph"
for node in node-1 node-2; do
    grep -q -- "--$node\$" "$work/graph" || fail "$node is not in the inventory"
done
grep -q -- "@patch_group_sandbox_a" "$work/graph" || fail "no patch group of the sandbox nodes"

ansible all -i "$work/sandbox.ssm.yml" -m ansible.builtin.ping | tee "$work/ping"
[ "$(grep -c 'SUCCESS' "$work/ping")" -eq 2 ] || fail "ping did not succeed on both nodes"
ansible all -i "$work/sandbox.ssm.yml" -m ansible.builtin.command -a "cat /etc/hostname" | tee "$work/hostname"
grep -q "^node-1$" "$work/hostname" || fail "node-1 did not answer with its host name"
echo "ok: ansible -m ping through the inventory over fleetops.ssm.session on 2 sandbox nodes"
