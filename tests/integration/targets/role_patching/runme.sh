#!/usr/bin/env bash
# The fleetops.ssm.patching role, driven through playbooks/patch.yml by ansible-playbook, on three
# real sandbox nodes registered with the local SSM endpoint and reached over fleetops.ssm.session.
# Needs root (the sandbox nodes and the session-manager-plugin stand-in).
#
#   bad_arguments      bad variables are refused with a clear message before anything happens
#   scan_check_mode    --check: the updates are listed, nothing is changed or reported
#   scan               the default run scans: every pending update reported NON_COMPLIANT, nothing installed
#   ssm_aws_document   ssm mode with AWS-RunPatchBaseline (which the sandbox cannot run): the baseline and
#                      patch group, the calls, and too many failed nodes failing the run
#   ssm_outcomes       ssm mode with a stand-in document that runs: all succeed; one fails within
#                      max_errors; one fails beyond it
#   install_abort      one node at a time, stop at the first failure: the failing node is reported
#                      NON_COMPLIANT with the package manager's error, the next batch never starts
#   install            all nodes in one batch within max_fail_percentage: one installs and reboots (with
#                      the pre/post-reboot hooks and a service check), one fails its install, one goes down
#                      mid-install; both failures are reported and the first node finishes
#
# Installs are limited to one or two small pending packages (patch_include) to keep the run short.
# ansible-test passes "-e @<config>.json" (aws_* variables) and -v flags; against a real AWS account
# (no aws_endpoint_url) there is no sandbox: skipped. PATCH_TEST_STEPS="scan install" runs some steps.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
args=("$@")
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

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

work=$(mktemp -d "${TMPDIR:-/tmp}/role-patching.XXXXXX")
fleet() { "$collection/tests/sandbox/fleet" "$1" --state-dir "$work/fleet" "${@:2}"; }
cleanup() {
    local rc=$?
    set +e
    if [ -n "${playbook_pid:-}" ]; then kill "$playbook_pid" 2>/dev/null; fi
    fleet down >/dev/null 2>&1
    if [ -n "${py:-}" ]; then check cleanup --baseline "$baseline_name" --document "$document_name" >/dev/null 2>&1; fi
    rm -rf "$work"
    return $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$url AWS_URL=$url
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export FLEETOPS_SSM_SESSION_PLUGIN=$collection/tests/endpoint/bin/session-manager-plugin
export FLEETOPS_SSM_CONTROL_PATH_DIR=$work/cp
export ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=0
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export PATCH_TEST_HOOK_LOG=$work/hooks.log

# The Python that runs Ansible has boto3.
py=$(ansible-playbook --version | sed -n 's/^ *python version = .*(\([^()]*\))$/\1/p')
[ -x "$py" ] || fail "cannot tell which Python runs ansible-playbook"
check() { "$py" "$here/patching_test.py" "$@"; }

t0=$SECONDS
# What the run creates in the endpoint is named for this run: the nodes' patch group, a baseline, a document.
suffix=$(date +%s)-$$
patch_group=fleetops-patching-$suffix
baseline_name=fleetops-test-debian-$suffix
document_name=fleetops-test-RunPatchBaseline-$suffix
fleet up -n 3 --endpoint "$url" --tags "Patch Group=$patch_group" >"$work/fleet-up.log" 2>&1 || { cat "$work/fleet-up.log"; fail "fleet up failed"; }
declare -A id
while read -r name instance; do id[$name]=$instance; done < <(fleet ls --json | python3 -c 'import json, sys
for n in json.load(sys.stdin)["nodes"]:
    print(n["name"], n["instance_id"])')
inventory=$work/inventory
{
    echo "[nodes]"
    for n in node-1 node-2 node-3; do echo "$n ansible_host=${id[$n]}"; done
    echo "[nodes:vars]"
    echo "ansible_connection=fleetops.ssm.session"
    echo "ansible_python_interpreter=/usr/bin/python3"
} >"$inventory"
# Containers share the host's kernel (and its boot id): the reboot is seen in PID 1's start time.
cat >"$work/sandbox.yml" <<'YAML'
patch_reboot_boot_time_command: cut -d' ' -f22 /proc/1/stat
YAML
cat >"$work/baseline.yml" <<YAML
patch_baseline:
  name: $baseline_name
  operating_system: DEBIAN
  approval_rules:
    - patch_filters: [{key: PRIORITY, values: [Required, Important, Standard]}]
      approve_after_days: 0
patch_include: ["openssl*"]
YAML
echo "fleet of 3 nodes up in $((SECONDS - t0))s: ${id[node-1]} ${id[node-2]} ${id[node-3]} (endpoint $url)"

# ansible-playbook playbooks/patch.yml LOG [ARGS...]: the output goes to LOG; returns its exit status.
patch() {
    local log=$1
    shift
    ansible-playbook -i "$inventory" "$collection/playbooks/patch.yml" -e patch_hosts=nodes -e "@$work/sandbox.yml" \
        "$@" "${args[@]}" >"$log" 2>&1
}

expect_failure() {
    local log=$1 what=$2
    shift 2
    local rc=0
    patch "$log" "$@" || rc=$?
    [ "$rc" -ne 0 ] || { cat "$log"; fail "$what: the run succeeded"; }
    echo "$rc"
}

recap() { # recap LOG HOST -> "ok=.. changed=.. unreachable=.. failed=.."
    sed -n "s/^$2 *: \(ok=[0-9]* *changed=[0-9]* *unreachable=[0-9]* *failed=[0-9]*\).*/\1/p" "$1" | tr -s ' '
}

# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
packages() { fleet exec "$1" -- dpkg-query -W -f '${Package} ${Version}\n'; }
pending() { fleet exec "$1" -- apt-get -s -q -o Debug::NoLocking=1 dist-upgrade | sed -n 's/^Inst \([^ ]*\) .*/\1/p'; }
reset_calls() { curl -sf --noproxy '*' -X DELETE "$url/_fleetops/calls" >/dev/null; }

run_steps() {
    local step t
    for step in "$@"; do
        if [ -n "${PATCH_TEST_STEPS:-}" ] && [[ " $PATCH_TEST_STEPS " != *" $step "* ]]; then
            continue
        fi
        echo "==== $step"
        t=$SECONDS
        "step_$step"
        echo "==== $step passed in $((SECONDS - t))s"
    done
}

step_bad_arguments() {
    local log=$work/bad.log
    reset_calls
    packages node-1 >"$work/before"
    # the argument specs report every bad variable at once
    expect_failure "$log" "bad variables" -e patch_operation=upgrade -e patch_reboot=sometimes \
        -e '{"patch_include": {"openssl": true}}' >/dev/null
    grep -q "patching_operation must be one of: scan, install, got: upgrade" "$log" ||
        { cat "$log"; fail "no clear message for patch_operation=upgrade"; }
    grep -q "patching_reboot must be one of: if_needed, never, got: sometimes" "$log" ||
        { cat "$log"; fail "no clear message for patch_reboot=sometimes"; }
    grep -q "patching_include'\{0,1\} is of type .*dict.* and we were unable to convert to list" "$log" ||
        { cat "$log"; fail "no clear message for a dict patch_include"; }
    expect_failure "$log" "a missing hook" -e patch_pre_reboot_tasks=no-such-hook.yml >/dev/null
    grep -q "patching_pre_reboot_tasks: the task file .*no-such-hook.yml does not exist" "$log" ||
        { cat "$log"; fail "no clear message for a missing hook file"; }
    expect_failure "$log" "ssm mode without nodes" -e patch_mode=ssm >/dev/null
    grep -q "ssm mode needs the nodes to patch" "$log" || { cat "$log"; fail "no clear message without targets"; }
    expect_failure "$log" "a bad max_errors" -e patch_mode=ssm -e patch_groups="$patch_group" -e patch_max_errors=lots >/dev/null
    grep -q 'patching_max_errors must be a number of nodes (0 or more) or a percentage' "$log" ||
        { cat "$log"; fail "no clear message for patch_max_errors=lots"; }
    expect_failure "$log" "security-only in ssm mode" -e patch_mode=ssm -e patch_groups="$patch_group" \
        -e patch_security_only=true >/dev/null
    grep -q "patching_security_only is for ansible mode" "$log" ||
        { cat "$log"; fail "no clear message for patch_security_only in ssm mode"; }
    check calls --zero SendCommand --zero PutComplianceItems --zero CreatePatchBaseline --zero StartSession
    packages node-1 | diff "$work/before" - >/dev/null || fail "bad arguments changed packages on node-1"
    echo "ok: bad arguments refused before any call or connection"
}

step_scan_check_mode() {
    local log=$work/scan-check.log
    reset_calls
    packages node-2 >"$work/before"
    patch "$log" --check || { cat "$log"; fail "the check-mode scan failed"; }
    grep -q 'NON_COMPLIANT: [1-9][0-9]* of [1-9][0-9]* available updates selected' "$log" ||
        { cat "$log"; fail "the check-mode scan did not report pending updates"; }
    check calls --zero PutComplianceItems
    check no-compliance "${id[node-1]}" "${id[node-2]}" "${id[node-3]}"
    packages node-2 | diff "$work/before" - >/dev/null || fail "the check-mode scan changed packages on node-2"
    echo "ok: check mode listed the updates and changed nothing"
}

step_scan() {
    local log=$work/scan.log n want
    packages node-1 >"$work/before-1"
    patch "$log" || { cat "$log"; fail "the scan failed"; }
    for n in node-1 node-2 node-3; do pending "$n" >"$work/pending-$n" & done
    wait
    for n in node-1 node-2 node-3; do
        # the one change is the compliance report
        [ "$(recap "$log" "$n" | sed 's/ok=[0-9]* //')" = "changed=1 unreachable=0 failed=0" ] ||
            { grep -A5 RECAP "$log"; fail "$n: unexpected recap $(recap "$log" "$n")"; }
        want=$(grep -c "" "$work/pending-$n" || true)
        [ "$want" -gt 0 ] || fail "$n has no pending updates to scan (the sandbox should have some)"
        check compliance "${id[$n]}" --status NON_COMPLIANT --operation Scan --missing "$want" --installed 0 \
            --failed 0 --items "$want" --no-error --package "$(head -n 1 "$work/pending-$n")=Missing"
    done
    packages node-1 | diff "$work/before-1" - || fail "the scan changed packages on node-1"
    echo "ok: the scan reported the pending updates of 3 nodes and installed nothing"
}

# How many names on stdin match the shell pattern $1.
count_matching() {
    local name count=0
    while read -r name; do
        # shellcheck disable=SC2053 # a glob match on purpose
        if [[ $name == $1 ]]; then count=$((count + 1)); fi
    done
    echo "$count"
}

# Two small pending packages (patterns) for the installs, from those the nodes have.
choose_packages() {
    local name pattern
    pending node-1 >"$work/pending"
    if [ ! -s "$work/pending" ]; then # the scan step has not refreshed the package lists
        fleet exec node-1 -- apt-get update -q >/dev/null
        pending node-1 >"$work/pending"
    fi
    [ -s "$work/pending" ] || fail "node-1 has no pending update to install"
    chosen=()
    for pattern in 'libsasl2-*' 'libbrotli*' 'libssh2-*' 'tzdata' 'libexpat1'; do
        while read -r name; do
            # shellcheck disable=SC2053 # a glob match on purpose
            if [[ $name == $pattern ]]; then
                chosen+=("$pattern")
                break
            fi
        done <"$work/pending"
        [ ${#chosen[@]} -lt 2 ] || break
    done
    while [ ${#chosen[@]} -lt 2 ]; do
        chosen+=("$(sed -n "$(( ${#chosen[@]} + 1 ))p" "$work/pending")")
    done
    echo "packages for the installs: ${chosen[*]}"
}

step_ssm_aws_document() {
    local log=$work/ssm-aws.log
    reset_calls
    # check mode first: nothing is written, nothing is sent
    patch "$log" --check -e patch_mode=ssm -e patch_groups="$patch_group" -e "@$work/baseline.yml" ||
        { cat "$log"; fail "the ssm check-mode run failed"; }
    check calls --zero SendCommand --zero CreatePatchBaseline --zero RegisterPatchBaselineForPatchGroup
    expect_failure "$log" "AWS-RunPatchBaseline in the sandbox" -e patch_mode=ssm -e patch_groups="$patch_group" \
        -e patch_max_concurrency=3 -e "@$work/baseline.yml" >/dev/null
    grep -q "AWS-RunPatchBaseline Scan failed on 3 of 3 nodes, more than patching_max_errors (0, that is 0 nodes) allows" "$log" ||
        { cat "$log"; fail "no clear message when every node failed"; }
    grep -q "${id[node-1]}: Failed: fleetops sandbox: document AWS-RunPatchBaseline is not supported here" "$log" ||
        { cat "$log"; fail "the failure does not name node-1 and its reason"; }
    check calls --count SendCommand=1
    check command --document AWS-RunPatchBaseline --parameter Operation=Scan --parameter RebootOption= \
        --target "tag:Patch Group=$patch_group" --max-concurrency 3 --max-errors 0 --target-count 3
    "$py" - "$baseline_name" "$patch_group" <<'PY' || fail "the baseline is not registered for patch group $patch_group"
import boto3, os, sys
ssm = boto3.client("ssm", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
found = ssm.get_patch_baseline_for_patch_group(PatchGroup=sys.argv[2], OperatingSystem="DEBIAN")
baseline = ssm.get_patch_baseline(BaselineId=found["BaselineId"])
assert baseline["Name"] == sys.argv[1], baseline["Name"]
assert baseline["ApprovedPatches"] == ["openssl*"], baseline["ApprovedPatches"]
print(f"ok: baseline {baseline['BaselineId']} ({baseline['Name']}) serves patch group {sys.argv[2]}")
PY
}

step_ssm_outcomes() {
    local log=$work/ssm.log doc=$document_name n
    check document "$doc"
    local ssm_args=(-e patch_mode=ssm -e patch_document="$doc" -e patching_ssm_poll_interval=1
        -e "{\"patch_targets\": [{\"key\": \"tag:Patch Group\", \"values\": [\"$patch_group\"]}]}"
        -e patch_max_concurrency=3)
    # every node succeeds and reports its patch state
    patch "$log" "${ssm_args[@]}" -e patch_operation=install -e patch_reboot=never ||
        { cat "$log"; fail "the ssm install failed"; }
    grep -q "$doc Install: command .* Success, 3 nodes, 3 succeeded, 0 failed" "$log" ||
        { cat "$log"; fail "the summary does not show 3 nodes succeeded"; }
    for n in node-1 node-2 node-3; do
        grep -q "${id[$n]} ($n): Success, compliant" "$log" || { cat "$log"; fail "no compliant patch state for $n"; }
        [ "$(fleet exec "$n" -- cat /var/tmp/fleetops-patch-run)" = "Operation=Install RebootOption=NoReboot" ] ||
            fail "$n did not get Operation=Install RebootOption=NoReboot"
    done
    check command --document "$doc" --parameter Operation=Install --parameter RebootOption=NoReboot \
        --target "tag:Patch Group=$patch_group" --max-concurrency 3 --max-errors 0 --target-count 3
    # node-2 fails, within max_errors 1: the run goes on and names it
    fleet exec node-2 -- sh -c 'echo fail > /etc/fleetops-patch-outcome'
    patch "$log" "${ssm_args[@]}" -e patch_max_errors=1 || { cat "$log"; fail "one failure within max_errors failed the run"; }
    grep -q "$doc Scan: command .* 3 nodes, 2 succeeded, 1 failed (max_errors 1 allows 1)" "$log" ||
        { cat "$log"; fail "the summary does not show 1 node failed within max_errors"; }
    grep -q "${id[node-2]} (node-2): Failed, " "$log" || { cat "$log"; fail "node-2 is not shown failed"; }
    # the same beyond max_errors 0: the run fails and names node-2 with its error
    expect_failure "$log" "one failure beyond max_errors" "${ssm_args[@]}" >/dev/null
    grep -q "$doc Scan failed on 1 of 3 nodes, more than patching_max_errors (0, that is 0 nodes) allows: ${id[node-2]}: Failed: simulated patch failure on this node" "$log" ||
        { cat "$log"; fail "no clear message when a node failed beyond max_errors"; }
    fleet exec node-2 -- rm -f /etc/fleetops-patch-outcome
    echo "ok: ssm mode: all succeeded, one failure within max_errors, one beyond it"
}

step_install_abort() {
    local log=$work/install-abort.log
    choose_packages
    packages node-3 >"$work/before-3"
    check summary "${id[node-3]}" >"$work/before-3.json"
    # node-2's package manager fails (a dpkg hook exits 1)
    fleet exec node-2 -- sh -c "echo 'DPkg::Pre-Invoke {\"echo fleetops test: simulated dpkg failure >&2; exit 1\";};' >/etc/apt/apt.conf.d/99fleetops-test-fail"
    expect_failure "$log" "a failing node-2, one node at a time" -e patch_hosts=node-2:node-3 \
        -e patch_operation=install -e patch_include="${chosen[0]}" -e patch_serial=1 -e patch_max_fail_percentage=0 \
        >/dev/null
    [ "$(recap "$log" node-2 | sed 's/.*failed=//')" = 1 ] || { grep -A5 RECAP "$log"; fail "node-2 is not failed"; }
    [ "$(recap "$log" node-3)" = "" ] || { grep -A5 RECAP "$log"; fail "node-3 (second batch) ran after node-2 failed"; }
    check compliance "${id[node-2]}" --status NON_COMPLIANT --operation Install \
        --failed "$(pending node-2 | count_matching "${chosen[0]}")" --installed 0 \
        --error "Upgrade the packages: non-zero return code" --error "fleetops test: simulated dpkg failure"
    check summary "${id[node-3]}" | diff "$work/before-3.json" - || fail "node-3's compliance changed"
    packages node-3 | diff "$work/before-3" - >/dev/null || fail "node-3 was patched after node-2 failed"
    echo "ok: node-2 NON_COMPLIANT with the dpkg error, node-3 (next batch) left alone"
}

step_install() {
    local log=$work/install.log rc=0 leader
    [ ${#chosen[@]} -eq 2 ] || choose_packages
    # node-1 asks for a reboot; node-2 still fails its installs; node-3's install hangs until it goes down
    fleet exec node-1 -- touch /run/reboot-required
    fleet exec node-3 -- sh -c "echo 'DPkg::Pre-Invoke {\"sleep 600\";};' >/etc/apt/apt.conf.d/99fleetops-test-hang"
    rm -f "$PATCH_TEST_HOOK_LOG"
    patch "$log" -e patch_operation=install -e patch_include="${chosen[0]},${chosen[1]}" -e patch_serial=3 \
        -e patch_max_fail_percentage=70 -e patch_services=dbus \
        -e patch_pre_reboot_tasks="$here/hooks/pre_reboot.yml" -e patch_post_reboot_tasks="$here/hooks/post_reboot.yml" &
    playbook_pid=$!
    for _ in $(seq 1 240); do
        if fleet exec node-3 -- pgrep -f 'sleep 600' >/dev/null 2>&1; then break; fi
        sleep 0.5
    done
    fleet exec node-3 -- pgrep -f 'sleep 600' >/dev/null || { cat "$log"; fail "node-3's install never started"; }
    leader=$(fleet ls --json | python3 -c 'import json, sys
print([n for n in json.load(sys.stdin)["nodes"] if n["name"] == "node-3"][0]["leader_pid"])')
    kill -KILL "$leader"
    echo "node-3 killed in the middle of its install"
    wait "$playbook_pid" || rc=$?
    playbook_pid=""
    [ "$rc" -ne 0 ] || { cat "$log"; fail "the run succeeded with two failed nodes"; }
    grep -A4 RECAP "$log"
    [ "$(recap "$log" node-1 | sed 's/ok=[0-9]* changed=[0-9]* //')" = "unreachable=0 failed=0" ] ||
        { cat "$log"; fail "node-1 did not finish"; }
    [ "$(recap "$log" node-2 | sed 's/.*failed=//')" = 1 ] || fail "node-2 is not failed"
    [ "$(recap "$log" node-3 | sed 's/.*failed=//')" = 1 ] || fail "node-3 is not failed"
    local want after
    want=$(( $(count_matching "${chosen[0]}" <"$work/pending") + $(count_matching "${chosen[1]}" <"$work/pending") ))
    pending node-1 >"$work/pending-after"
    after=$(( $(count_matching "${chosen[0]}" <"$work/pending-after") + $(count_matching "${chosen[1]}" <"$work/pending-after") ))
    [ "$after" -eq 0 ] || fail "node-1 still has $after of the $want updates pending"
    check compliance "${id[node-1]}" --status COMPLIANT --operation Install --missing 0 --failed 0 --installed "$want" \
        --no-error --rebooted true --services dbus=running
    check compliance "${id[node-2]}" --status NON_COMPLIANT --operation Install --unreachable false \
        --error "fleetops test: simulated dpkg failure"
    check compliance "${id[node-3]}" --status NON_COMPLIANT --operation Install --unreachable true \
        --error "node-3 became unreachable during install"
    # the hooks ran around node-1's reboot, which did happen
    local before after
    before=$(sed -n 's/^pre-reboot node-1 //p' "$PATCH_TEST_HOOK_LOG")
    after=$(sed -n 's/^post-reboot node-1 //p' "$PATCH_TEST_HOOK_LOG")
    if [ -z "$before" ] || [ -z "$after" ] || [ "$before" = "$after" ]; then
        cat "$PATCH_TEST_HOOK_LOG"
        fail "the reboot hooks did not run around a reboot of node-1"
    fi
    fleet exec node-1 -- test ! -e /run/reboot-required || fail "node-1 still asks for a reboot"
    [ "$(grep -c "" "$PATCH_TEST_HOOK_LOG")" -eq 2 ] || { cat "$PATCH_TEST_HOOK_LOG"; fail "hooks ran on other nodes"; }
    echo "ok: node-1 installed and rebooted between its hooks; node-2 and node-3 reported NON_COMPLIANT"
}

run_steps bad_arguments scan_check_mode scan ssm_aws_document ssm_outcomes install_abort install
echo "role_patching: all checks passed in $((SECONDS - t0))s"
