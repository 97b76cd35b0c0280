#!/usr/bin/env bash
# playbooks/drift.yml end to end on two sandbox nodes reached over fleetops.ssm.session: a scan that
# reports every entry NON_COMPLIANT to SSM Compliance and changes nothing, a --check remediation that
# changes nothing either, a remediation where one entry (a service that cannot start) stays
# NON_COMPLIANT with its error while the others are fixed, convergence to COMPLIANT, an idempotent
# run, and bad role arguments refused. Needs root (the sandbox and the session-manager-plugin
# stand-in) and Debian's package archive (the nodes install python3-apt and tree).
#
# ansible-test passes "-e @<config>.json" (aws_* variables). Against a real AWS account there is no
# sandbox: skipped.
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
    FLEETOPS_CACHE=$(dirname "$HOME") # ansible-test's HOME is $FLEETOPS_CACHE/home: reuse the cached rootfs
    export FLEETOPS_CACHE
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/role-drift.XXXXXX")
fleet() { "$collection/tests/sandbox/fleet" "$1" --state-dir "$work/fleet" "${@:2}"; }
cleanup() {
    local rc=$?
    fleet down >/dev/null 2>&1 || true
    rm -rf "$work"
    return $rc
}
trap cleanup EXIT

fleet up -n 2 --endpoint "$url" >"$work/fleet-up.log" 2>&1 || { cat "$work/fleet-up.log"; fail "fleet up failed"; }

# The inventory: both nodes are web servers; their desired state is in group_vars/web.yml.
mkdir -p "$work/inventory/group_vars"
{
    echo "[web]"
    fleet ls --json | python3 -c 'import json, sys
for n in json.load(sys.stdin)["nodes"]:
    print(n["name"], "ansible_host=" + n["instance_id"])'
    echo "[web:vars]"
    echo "ansible_connection=fleetops.ssm.session"
    echo "ansible_python_interpreter=/usr/bin/python3"
} >"$work/inventory/hosts"
cat >"$work/inventory/group_vars/web.yml" <<YAML
drift_report_dir: $work/reports
drift_report_formats: [json, yaml]
drift_aws_endpoint_url: $url
drift_aws_region: us-east-1
drift_files:
  # the seed example: a configuration file that must exist on every web server
  - path: /etc/fleetops/web.conf
    content: "listen 8080;\n"
    mode: "0644"
    owner: root
    severity: HIGH
  - path: /etc/fleetops-flag
    mode: "0600"
  - path: /etc/legacy.conf
    state: absent
drift_packages:
  - name: tree
  - name: less
    state: absent
drift_services:
  - name: drift-demo
    enabled: true
    running: true
  - name: drift-broken
    running: true
drift_sysctl:
  - name: kernel.ostype
    value: Linux
drift_users:
  - name: deploy
    shell: /bin/bash
drift_lines:
  - path: /etc/environment
    line: FLEETOPS=1
drift_task_files:
  - file: $here/files/motd.yml
drift_roles:
  - name: drift_test_banner
YAML

export ANSIBLE_ROLES_PATH=$here/files/roles
export FLEETOPS_SSM_SESSION_PLUGIN=$collection/tests/endpoint/bin/session-manager-plugin
export FLEETOPS_SSM_CONTROL_PATH_DIR=$work/cp
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$url
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export ANSIBLE_PIPELINING=1
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

playbook() { ansible-playbook -i "$work/inventory" "$@"; }
# The drift playbook by its full name, as AWX and users run it; the output is kept in $work/<name>.log.
drift() {
    local name=$1
    shift
    playbook fleetops.ssm.drift "$@" 2>&1 | tee "$work/$name.log"
    return "${PIPESTATUS[0]}"
}
verify() { playbook "$here/verify.yml" -e "phase=$1"; }
recap_changed() { # the changed count of each node in a run's recap, e.g. "0 0"
    grep -E '^node-[0-9]+ +: ' "$work/$1.log" | sed -E 's/.* changed=([0-9]+).*/\1/' | tr '\n' ' ' | sed 's/ $//'
}
checksums() { (cd "$work/reports" && sha256sum node-*.json node-*.yml); }

echo "==== prepare the nodes"
playbook "$here/prepare.yml"

echo "==== scan (the default): every entry drifted, reported, nothing changed on the nodes"
drift scan
grep -q 'NON_COMPLIANT: 12 items, 12 drifted, 0 remediated' "$work/scan.log" || fail "the scan summary is missing"
verify scan
checksums >"$work/scan.sha256"

echo "==== --check with remediation: nothing changes anywhere"
drift check --check -e drift_remediate=true
grep -q 'nothing was changed; the drifted items would be applied' "$work/check.log" || fail "no --check note"
verify check
checksums | diff "$work/scan.sha256" - || fail "--check rewrote the reports"

echo "==== remediation: everything but the service that cannot start is fixed"
drift remediate -e drift_remediate=true
grep -q 'NON_COMPLIANT: 12 items, 12 drifted, 11 remediated, not compliant: service:drift-broken' "$work/remediate.log" ||
    fail "the remediation summary is not the expected one"
verify remediated

echo "==== without the broken service, the nodes converge"
services='{"drift_services": [{"name": "drift-demo", "enabled": true, "running": true}]}'
drift converge -e drift_remediate=true -e "$services"
grep -q 'COMPLIANT: 11 items, 0 drifted, 0 remediated' "$work/converge.log" || fail "not converged"
verify converged

echo "==== the same run again changes nothing"
drift idempotent -e drift_remediate=true -e "$services"
[ "$(recap_changed idempotent)" = "0 0" ] || fail "changed on an idempotent run: $(recap_changed idempotent)"

echo "==== bad role arguments are refused before anything runs"
if drift bad-spec -e drift_remediate=maybe \
    -e '{"drift_services": [{"name": "nginx"}], "drift_files": [{"path": "/etc/a", "content": "x", "template": "a.j2"}]}'; then
    fail "bad arguments were accepted"
fi
for message in "Validation of arguments failed" "drift_remediate" "one of the following is required: enabled, running" \
    "mutually exclusive: content|template|src"; do
    grep -q "$message" "$work/bad-spec.log" || fail "no '$message' in the refusal"
done
if drift bad-ids -e '{"drift_lines": [{"path": "/etc/a", "line": "x"}, {"path": "/etc/a", "line": "x"}]}'; then
    fail "duplicate ids were accepted"
fi
grep -q "these appear more than once: line:/etc/a:x" "$work/bad-ids.log" || fail "duplicate ids not named"
if drift bad-node -e drift_instance_id=web-1; then
    fail "a node id that is not one was accepted"
fi
grep -q 'not a managed node id' "$work/bad-node.log" || fail "the bad node id is not explained"
grep -q 'Validating arguments' "$work/bad-node.log" || fail "the argument specs did not run"

echo "==== --check with drift_report_in_check_mode: the drift is recorded, the node stays as it is"
playbook "$here/tamper.yml"
drift check-report --check -e drift_report_in_check_mode=true -e "$services"
grep -q 'NON_COMPLIANT: 11 items, 1 drifted, 0 remediated, not compliant: file:/etc/fleetops/web.conf' \
    "$work/check-report.log" || fail "the tampered file was not found"
verify tampered

echo "ok: drift detected, reported, remediated and converged on 2 sandbox nodes over fleetops.ssm.session"
