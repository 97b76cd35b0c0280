#!/usr/bin/env bash
# The fleetops.ssm.agent role (playbooks/install_agent.yml) on two real sandbox nodes that no agent
# manages yet, reached with community.docker.nsenter. The test builds the stand-in agent package
# (tests/agent_package/) in two versions, serves it like AWS's download bucket over HTTP, and runs
# the playbook:
#   1. install a pinned version, create an activation, register, configure (json + proxy drop-in),
#      verify Online in SSM;
#   2. the same again: nothing changes;
#   3. upgrade to the latest version, first in check mode (same managed node ids), then again and in
#      check mode: nothing changes;
#   4. bad arguments, a bad signature and a bad checksum: refused before anything changes;
#   5. no activation code anywhere in the -vvv output of all these runs;
#   6. uninstall and deregister, twice (the second changes nothing).
# Needs root (the sandbox). ansible-test passes "-e @<config>.json" (aws_* variables).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

config_args=("$@")
config_var() {
    python3 - "$1" "${config_args[@]}" <<'PY'
import json, sys
name, args = sys.argv[1], sys.argv[2:]
for index, arg in enumerate(args):
    if arg == "-e" and index + 1 < len(args) and args[index + 1].startswith("@"):
        path = args[index + 1][1:]
        try:
            import yaml
            with open(path) as fh:
                data = yaml.safe_load(fh)
        except ImportError:
            with open(path) as fh:
                data = json.load(fh)
        print((data or {}).get(name) or "")
        break
PY
}

url=$(config_var aws_endpoint_url)
if [ -z "$url" ] && [ -n "$(config_var aws_access_key)" ]; then
    echo "SKIP: no local SSM endpoint (real AWS): the sandbox nodes need the local endpoint"
    exit 0
fi
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
[ -x "$collection/tests/agent_package/build.sh" ] || fail "tests/agent_package/build.sh not found (collection: $collection)"
if [ -z "${FLEETOPS_CACHE:-}" ] && [ -f "$(dirname "$HOME")/sandbox/rootfs-bookworm.stamp" ]; then
    FLEETOPS_CACHE=$(dirname "$HOME")  # ansible-test's HOME is $FLEETOPS_CACHE/home: reuse the cached rootfs
    export FLEETOPS_CACHE
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/role-agent.XXXXXX")
server_pid="" own_endpoint=""
fleet() { "$collection/tests/sandbox/fleet" "$1" --state-dir "$work/fleet" "${@:2}"; }
cleanup() {
    local rc=$?
    set +e
    # ROLE_AGENT_LOGS=DIR keeps the output of every run
    [ -z "${ROLE_AGENT_LOGS:-}" ] || { mkdir -p "$ROLE_AGENT_LOGS" && cp "$work"/*.log "$ROLE_AGENT_LOGS"/; }
    [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null
    fleet down >/dev/null 2>&1
    [ -z "$own_endpoint" ] || "$collection/tests/endpoint/ssm-endpoint" stop --state-dir "$work/endpoint" >/dev/null 2>&1
    rm -rf "$work"
    return $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$url" ]; then
    url=$("$collection/tests/endpoint/ssm-endpoint" start --state-dir "$work/endpoint" | tail -n 1)
    own_endpoint=1
fi
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

t0=$SECONDS
# ---------------------------------------------------------------- the packages, served like AWS's bucket
"$collection/tests/agent_package/build.sh" --out "$work/pkg" 3.3.1000.0 3.3.2000.0
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/pkg/repo" "$port" >"$work/http.log" 2>&1 &
server_pid=$!
mirror=http://127.0.0.1:$port/amazon-ssm-us-east-1
for i in $(seq 1 50); do
    curl -sf --noproxy '*' -o /dev/null "$mirror/latest/debian_amd64/amazon-ssm-agent.deb" && break
    [ "$i" -lt 50 ] || fail "the package server did not come up: $(cat "$work/http.log")"
    sleep 0.1
done

# ---------------------------------------------------------------- two nodes that SSM does not know
# Not registered with the endpoint: the agent role registers them.
env -u FLEETOPS_ENDPOINT_URL "$collection/tests/sandbox/fleet" up -n 2 --state-dir "$work/fleet" \
    >"$work/fleet-up.log" 2>&1 || { cat "$work/fleet-up.log"; fail "fleet up failed"; }
inventory=$work/inventory
{
    echo "[nodes]"
    fleet ls --json | python3 -c 'import json, sys
for n in json.load(sys.stdin)["nodes"]:
    print(n["name"], "ansible_nsenter_pid=%d" % n["leader_pid"])'
    echo "[nodes:vars]"
    echo "ansible_connection=community.docker.nsenter"
    echo "ansible_python_interpreter=/usr/bin/python3"
} >"$inventory"
echo "setup done in $((SECONDS - t0))s: endpoint $url, mirror $mirror"

python3 - "$work/vars.json" "$url" "$mirror" "$work" "$work/pkg/signing-key.asc" <<'PY'
import json, sys
path, url, mirror, work, key = sys.argv[1:6]
with open(key) as fh:
    signing_key = fh.read()
json.dump({
    "agent_region": "us-east-1",
    "agent_aws_endpoint_url": url,
    "agent_mirror_url": mirror,
    "agent_signature_key": signing_key,
    "agent_activation_iam_role": "RoleAgentTestRole",
    "agent_activation_default_instance_name": "role-agent-test",
    "agent_activation_tags": {"Team": "role-agent", "Patch Group": "agents"},
    "agent_config": {"Ssm": {"Endpoint": url}, "Agent": {"Region": "us-east-1"}},
    "agent_proxy": {"https_proxy": "http://proxy.invalid:3128", "http_proxy": "http://proxy.invalid:3128",
                    "no_proxy": ["127.0.0.1", "localhost"]},
    "agent_verify_timeout": 60,
    "agent_verify_delay": 2,
    "role_agent_iam_role": "RoleAgentTestRole",
    "role_agent_work": work,
}, open(path, "w"))
PY

run() {  # run NAME ARGS...: the playbook at -vvv, output in $work/NAME.log; exit status returned
    local name=$1 rc=0
    shift
    ansible-playbook -i "$inventory" -vvv -e "@$work/vars.json" -e agent_become=false "$@" >"$work/$name.log" 2>&1 || rc=$?
    return $rc
}
install_agent() { run "$1" fleetops.ssm.install_agent "${@:2}"; }
check() { run "check-$1" "$here/check.yml" -e "expect_state=$2" "${@:3}" || { tail -n 60 "$work/check-$1.log"; fail "check after $1"; }; }
recap() {  # recap NAME: the PLAY RECAP lines
    sed -n '/^PLAY RECAP/,$p' "$work/$1.log" | grep -E '^(node-[12]|localhost) +:'
}
expect_changed() {  # expect_changed NAME yes|no
    local lines
    lines=$(recap "$1")
    [ -n "$lines" ] || { tail -n 40 "$work/$1.log"; fail "$1: no PLAY RECAP"; }
    if echo "$lines" | grep -Eq 'failed=[1-9]|unreachable=[1-9]'; then echo "$lines"; fail "$1: failures"; fi
    if [ "$2" = no ] && echo "$lines" | grep -Eq 'changed=[1-9]'; then
        echo "$lines"; grep -E '^(changed|TASK)' "$work/$1.log" | grep -B1 '^changed' | head -20; fail "$1 changed something"
    fi
    if [ "$2" = yes ] && ! echo "$lines" | grep -E '^node-' | grep -Eq 'changed=[1-9]'; then
        echo "$lines"; fail "$1 changed nothing"
    fi
    echo "ok: $1: $(echo "$lines" | tr -s ' ' | tr '\n' ';')"
}

run setup "$here/setup.yml" || { tail -n 40 "$work/setup.log"; fail "setup.yml"; }

node_version() {  # node_version NODE: the installed agent version, read without Ansible
    # shellcheck disable=SC2016 # ${Version} is dpkg-query's, not the shell's
    fleet exec "$1" -- dpkg-query -W -f='${Version}' amazon-ssm-agent 2>/dev/null || true
}

# ---------------------------------------------------------------- 1. install, register, verify
t=$SECONDS
install_agent install -e agent_version=3.3.1000.0 || { tail -n 80 "$work/install.log"; fail "install"; }
expect_changed install yes
grep -q 'Create an activation for the nodes that register' "$work/install.log" || fail "install: no activation created"
check install present -e expect_version=3.3.1000.0
cp "$work/node-ids" "$work/node-ids.first"
echo "ok: installed 3.3.1000.0, registered $(tr '\n' ' ' <"$work/node-ids"), Online, in $((SECONDS - t))s"

t=$SECONDS
install_agent again -e agent_version=3.3.1000.0 || { tail -n 80 "$work/again.log"; fail "second run"; }
expect_changed again no
echo "ok: the second run with the pinned version changed nothing ($((SECONDS - t))s)"

# ---------------------------------------------------------------- 2. upgrade to the latest
t=$SECONDS
install_agent upgrade-check --check --diff || { tail -n 60 "$work/upgrade-check.log"; fail "upgrade in check mode"; }
expect_changed upgrade-check yes
for node in node-1 node-2; do
    [ "$(node_version "$node")" = 3.3.1000.0-1 ] || fail "check mode changed the agent on $node"
done
install_agent upgrade || { tail -n 80 "$work/upgrade.log"; fail "upgrade"; }
expect_changed upgrade yes
check upgrade present -e expect_version=3.3.2000.0
cmp -s "$work/node-ids" "$work/node-ids.first" || fail "the upgrade changed the managed node ids"
echo "ok: check mode predicted the upgrade and changed nothing; upgraded to 3.3.2000.0 with the same node ids ($((SECONDS - t))s)"

# ---------------------------------------------------------------- 3. idempotent with "latest", in check mode too
t=$SECONDS
install_agent latest-again || { tail -n 60 "$work/latest-again.log"; fail "latest again"; }
expect_changed latest-again no
install_agent latest-check --check --diff || { tail -n 60 "$work/latest-check.log"; fail "latest in check mode"; }
expect_changed latest-check no
echo "ok: the latest version again, and in check mode, changed nothing ($((SECONDS - t))s)"

# ---------------------------------------------------------------- 4. refused before any change
refused() {  # refused NAME MESSAGE ARGS...: the run fails, says MESSAGE, and changes nothing
    local name=$1 message=$2
    shift 2
    if install_agent "$name" "$@"; then fail "$name: the run succeeded"; fi
    grep -qF -- "$message" "$work/$name.log" || { tail -n 30 "$work/$name.log"; fail "$name: no '$message' in the output"; }
    if [ -z "${DOWNLOADS_ALLOWED:-}" ] && recap "$name" | grep -Eq 'changed=[1-9]'; then
        recap "$name"; fail "$name: changed something"
    fi
    echo "ok: $name refused: $message"
}
refused bad-state "value of agent_state must be one of: present, absent, got: installed" -e agent_state=installed
refused bad-version 'agent_version is 3.3: use "latest"' -e agent_version=3.3
refused half-activation "Give both agent_activation_code and agent_activation_id" -e agent_activation_id=3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b
refused bad-registration "value of agent_registration must be one of: auto, force, never, got: sometimes" -e agent_registration=sometimes
refused bad-proxy "agent_proxy.https. Supported parameters include: http_proxy, https_proxy, no_proxy" -e '{"agent_proxy": {"https": "x"}}'
refused bad-hours "AWS takes 1 to 720" -e agent_activation_expiration_hours=1000
"$collection/tests/agent_package/build.sh" --out "$work/other-key" 3.3.1000.0 >/dev/null
python3 - "$work/other-key.json" "$work/other-key/signing-key.asc" <<'PY'
import json, sys
json.dump({"agent_signature_key": open(sys.argv[2]).read(), "agent_version": "3.3.1000.0",
           "agent_registration": "never", "agent_download_dir": "/var/cache/role-agent-other"}, open(sys.argv[1], "w"))
PY
# A package is downloaded before its signature and checksum are checked; it is never installed.
DOWNLOADS_ALLOWED=1 refused bad-signature "does not carry a good signature from agent_signature_key" -e "@$work/other-key.json"
DOWNLOADS_ALLOWED=1 refused bad-checksum "did not match" -e agent_version=3.3.1000.0 -e agent_download_dir=/var/cache/role-agent-sum \
    -e agent_package_checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000
check refused present -e expect_version=3.3.2000.0

# ---------------------------------------------------------------- 5. the activation code is in no output
codes=$(curl -sf --noproxy '*' "$url/_fleetops/agent/activations" | python3 -c 'import json, sys
print("\n".join(a["activation_code"] for a in json.load(sys.stdin)["activations"]))')
[ -n "$codes" ] || fail "the endpoint issued no activation code"
logs=("$work"/*.log)
while IFS= read -r code; do
    if grep -rqF -- "$code" "${logs[@]}"; then
        grep -lF -- "$code" "${logs[@]}"
        fail "an activation code appears in the -vvv output"
    fi
done <<<"$codes"
echo "ok: none of $(echo "$codes" | wc -l) activation codes in $(cat "${logs[@]}" | wc -l) lines of -vvv output"

# ---------------------------------------------------------------- 6. uninstall and deregister
t=$SECONDS
install_agent remove -e agent_state=absent || { tail -n 60 "$work/remove.log"; fail "uninstall"; }
expect_changed remove yes
check remove absent
install_agent remove-again -e agent_state=absent || { tail -n 60 "$work/remove-again.log"; fail "uninstall again"; }
expect_changed remove-again no
echo "ok: uninstalled and deregistered, then no change ($((SECONDS - t))s)"
echo "ok: role_agent passed in $((SECONDS - t0))s"
