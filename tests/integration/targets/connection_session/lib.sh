# shellcheck shell=bash
# Shared by the runme.sh of the connection_session* targets: a sandbox fleet of three nodes
# registered with the local SSM endpoint, an inventory, and helpers. Source it, then call
# session_setup "$@" with the arguments ansible-test gave runme.sh.

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# The value of a variable in the "-e @file" arguments (ansible-test's config), else $2.
config_var() {
    local name=$1 default=${2:-} prev="" arg file value
    for arg in "${session_args[@]}"; do
        if [ "$prev" = -e ] && [ "${arg#@}" != "$arg" ]; then
            file=${arg#@}
            value=$(python3 -c 'import json, sys
try:
    import yaml
    data = yaml.safe_load(open(sys.argv[1]))
except ImportError:
    data = json.load(open(sys.argv[1]))
print((data or {}).get(sys.argv[2]) or "")' "$file" "$name" 2>/dev/null || true)
            if [ -n "$value" ]; then
                echo "$value"
                return 0
            fi
        fi
        prev=$arg
    done
    echo "$default"
}

fleet() {
    local command=$1
    shift
    "$collection/tests/sandbox/fleet" "$command" --state-dir "$work/fleet" "$@"
}

# Run the named steps (functions step_NAME), timed; SESSION_TEST_STEPS picks some of them.
run_steps() {
    local step t0
    for step in "$@"; do
        if [ -n "${SESSION_TEST_STEPS:-}" ] && [[ " $SESSION_TEST_STEPS " != *" $step "* ]]; then
            continue
        fi
        echo "==== $step"
        t0=$SECONDS
        "step_$step"
        echo "==== $step passed in $((SECONDS - t0))s"
    done
}

node_leader() {
    fleet ls --json | python3 -c 'import json, sys
print([n for n in json.load(sys.stdin)["nodes"] if n["name"] == sys.argv[1]][0]["leader_pid"])' "$1"
}

reset_calls() {
    curl -sf --noproxy '*' -X DELETE "$url/_fleetops/calls" >/dev/null
}

start_sessions() {
    curl -sf --noproxy '*' "$url/_fleetops/calls" |
        python3 -c 'import json, sys; print(json.load(sys.stdin).get("ssm:StartSession", 0))'
}

expect_starts() {
    local want=$1 what=$2 got
    got=$(start_sessions)
    [ "$got" -eq "$want" ] || fail "$what: $got StartSession calls, expected $want"
    echo "ok: $what: $got StartSession calls"
}

# ansible-playbook with the inventory and ansible-test's arguments.
playbook() {
    local book=$1
    shift
    ansible-playbook -i "$inventory" "$here/$book" "$@" "${session_args[@]}"
}

# Once a run has ended its helpers exit and remove their files (socket, lock, log).
step_control_dir_clean() {
    local i
    for i in $(seq 1 40); do
        if [ -z "$(ls -A "$work/cp" 2>/dev/null)" ]; then
            echo "ok: the control directory is empty ${i} checks after the last run"
            return 0
        fi
        sleep 0.25
    done
    ls -la "$work/cp"
    fail "files left in the control directory after the helpers exited"
}

session_cleanup() {
    local rc=$?
    set +e
    if [ -n "${work:-}" ] && [ -d "$work" ]; then
        # helpers of this run (they also end with the runs that started them)
        if [ -d "$work/cp" ] && [ -n "$(ls -A "$work/cp" 2>/dev/null)" ]; then
            echo "control directory not empty at the end:" >&2
            ls -la "$work/cp" >&2
        fi
        fleet down >/dev/null 2>&1
        if [ -n "${own_endpoint:-}" ]; then
            "$collection/tests/endpoint/ssm-endpoint" stop --state-dir "$work/endpoint" >/dev/null 2>&1
        fi
        rm -rf "$work"
    fi
    return $rc
}

session_setup() {
    session_args=("$@")
    here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
    # ansible-test runs a copy of the target; the collection is under ANSIBLE_COLLECTIONS_PATH.
    collection=""
    local p
    for p in ${ANSIBLE_COLLECTIONS_PATH//:/ }; do
        if [ -x "$p/ansible_collections/fleetops/ssm/tests/sandbox/fleet" ]; then
            collection=$p/ansible_collections/fleetops/ssm
            break
        fi
    done
    if [ -z "$collection" ]; then
        collection=$(cd "$here/../../../.." && pwd)
    fi
    [ -x "$collection/tests/sandbox/fleet" ] || fail "tests/sandbox/fleet not found (collection: $collection)"
    [ "$(id -u)" -eq 0 ] || fail "needs root (the sandbox nodes and the plugin stand-in)"
    # ansible-test gives us its own HOME ($FLEETOPS_CACHE/home): use the cached sandbox rootfs.
    if [ -z "${FLEETOPS_CACHE:-}" ] && [ -f "$(dirname "$HOME")/sandbox/rootfs-bookworm.stamp" ]; then
        FLEETOPS_CACHE=$(dirname "$HOME")
        export FLEETOPS_CACHE
    fi

    work=$(mktemp -d "${TMPDIR:-/tmp}/connection-session.XXXXXX")
    trap session_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    export SESSION_TEST_TMP=$work/files
    mkdir -p "$SESSION_TEST_TMP"

    url=$(config_var aws_endpoint_url)
    own_endpoint=""
    if [ -z "$url" ]; then
        if [ -n "$(config_var aws_access_key)" ]; then
            echo "SKIP: no local SSM endpoint (real AWS): the sandbox nodes need the local endpoint"
            exit 0
        fi
        mkdir -p "$work/endpoint"
        url=$("$collection/tests/endpoint/ssm-endpoint" start --state-dir "$work/endpoint" | tail -n 1)
        own_endpoint=1
    fi
    local t0=$SECONDS
    fleet up -n 3 --endpoint "$url" >"$work/fleet-up.log" 2>&1 || { cat "$work/fleet-up.log"; fail "fleet up failed"; }
    echo "fleet of 3 nodes up in $((SECONDS - t0))s (endpoint $url)"

    inventory=$work/inventory
    {
        echo "[nodes]"
        fleet ls --json | python3 -c 'import json, sys
for n in json.load(sys.stdin)["nodes"]:
    print(n["name"], "ansible_host=" + n["instance_id"])'
        echo "[nodes:vars]"
        echo "ansible_connection=fleetops.ssm.session"
        echo "ansible_python_interpreter=/usr/bin/python3"
    } >"$inventory"

    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
    export AWS_ENDPOINT_URL=$url
    export AWS_URL=$url
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
    export FLEETOPS_SSM_SESSION_PLUGIN=$collection/tests/endpoint/bin/session-manager-plugin
    export FLEETOPS_SSM_CONTROL_PATH_DIR=$work/cp
    export ANSIBLE_PIPELINING=1
    export ANSIBLE_HOST_KEY_CHECKING=0
    export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
    export NO_PROXY=$no_proxy

    : >"$SESSION_TEST_TMP/empty"
    { printf 'a\0b\0\0\r\n\377\376'; head -c 100000 /dev/urandom; } >"$SESSION_TEST_TMP/binary"
    sha256sum <"$SESSION_TEST_TMP/binary" | cut -c1-64 | tr -d '\n' >"$SESSION_TEST_TMP/binary.sha256"
}
