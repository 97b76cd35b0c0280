#!/usr/bin/env bash
# The main job on the embedded default, end to end:
#   1. the local SSM endpoint and a sandbox fleet of real Debian nodes registered with it;
#   2. the inventory, built by fleetops.ssm.managed_nodes;
#   3. playbooks/drift.yml: detect drift, report it to SSM Compliance, remediate, converge;
#   4. playbooks/patch.yml over fleetops.ssm.session: scan, then install the pending Debian
#      updates, rebooting the nodes that need it;
#   5. the fleet's compliance summary as the endpoint sees it;
#   6. everything torn down.
#
# Run it through tests/demo (which installs what it needs first). Expects the test virtualenv
# to be active and the collection on ANSIBLE_COLLECTIONS_PATH; needs root (the sandbox).
#   FLEETOPS_MAIN_JOB_NODES      number of nodes (default 3)
#   FLEETOPS_MAIN_JOB_INCLUDE    patch only these packages (comma separated; default: every update)
#   FLEETOPS_MAIN_JOB_KEEP=1     keep the fleet and the endpoint up at the end (prints how to stop them)
#   FLEETOPS_MAIN_JOB_OUTPUT=DIR copy the drift reports and the compliance summary (compliance.json) there
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
nodes=${FLEETOPS_MAIN_JOB_NODES:-3}
include=${FLEETOPS_MAIN_JOB_INCLUDE:-}

say() { printf '\n==== %s\n' "$*"; }
die() { printf 'main job: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (the sandbox nodes run under systemd-nspawn)"

work=$(mktemp -d "${TMPDIR:-/tmp}/fleetops-main-job.XXXXXX")
fleet() { "$root/tests/sandbox/fleet" "$@" --state-dir "$work/fleet"; }
cleanup() {
    if [ "${FLEETOPS_MAIN_JOB_KEEP:-}" = 1 ]; then
        printf 'kept: %s/tests/sandbox/fleet down --state-dir %s/fleet; %s/tests/endpoint/ssm-endpoint stop --state-dir %s/state\n' \
            "$root" "$work" "$root" "$work"
        return
    fi
    say "6/6 teardown"
    fleet down </dev/null 9>&- || true
    "$root/tests/endpoint/ssm-endpoint" stop --state-dir "$work/state" </dev/null 9>&- || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started=$SECONDS
declare -a timings=()
lap() { timings+=("$(printf '%-28s %4ds' "$1" $((SECONDS - lap_started)))"); lap_started=$SECONDS; }
lap_started=$SECONDS

say "1/6 local SSM endpoint and a sandbox fleet of $nodes nodes"
"$root/tests/sandbox/install-deps.sh"
mkdir "$work/state"
# A server keeping stdout open must not block us; fd 9 (a caller's lock) is not inherited.
"$root/tests/endpoint/ssm-endpoint" start --state-dir "$work/state" >"$work/start.out" </dev/null 9>&-
url=$(grep -Eo 'https?://[^[:space:]]+' "$work/start.out" | tail -n 1 || true)
[ -n "$url" ] || die "ssm-endpoint start printed no URL"
echo "local endpoint: $url"
fleet up -n "$nodes" --endpoint "$url" </dev/null 9>&-
lap "endpoint and fleet"

# Everything below talks to the endpoint the way it would talk to AWS.
export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export PATH="$root/tests/endpoint/bin:$PATH" # the session-manager-plugin stand-in
export FLEETOPS_SSM_CONTROL_PATH_DIR=$work/cp
export ANSIBLE_INVENTORY_ENABLED=fleetops.ssm.managed_nodes ANSIBLE_INVENTORY_UNPARSED_FAILED=true
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}
export ANSIBLE_PIPELINING=true

say "2/6 inventory: fleetops.ssm.managed_nodes"
inventory=$work/fleet.ssm.yml
sed "s|@ENDPOINT@|$url|" "$here/fleet.ssm.yml" >"$inventory"
ansible-inventory -i "$inventory" --graph
lap "inventory"

say "3/6 drift: detect, report, remediate, converge"
ansible-playbook -i "$inventory" "$root/playbooks/drift.yml" -e @"$here/desired_state.yml" \
    -e drift_remediate=true -e drift_report_dir="$work/drift-reports"
echo "drift reports:" "$work"/drift-reports/*
lap "drift"

say "4/6 patch over fleetops.ssm.session: scan, then install and reboot if needed"
# Sandbox nodes share the host's boot id: a reboot is recognised by PID 1's start time instead.
patch_args=(-i "$inventory" "$root/playbooks/patch.yml" -e patch_mode=ansible
    -e "patch_reboot_boot_time_command=cut -d' ' -f22 /proc/1/stat")
[ -z "$include" ] || patch_args+=(-e "patch_include=$include")
ansible-playbook "${patch_args[@]}" -e patch_operation=scan
ansible-playbook "${patch_args[@]}" -e patch_operation=install -e patch_serial=100% \
    -e patch_max_fail_percentage=34 -e patch_reboot=if_needed
lap "patch"

say "5/6 the fleet's compliance, as SSM sees it"
ansible-playbook -i "$inventory" "$here/report.yml" -e main_job_report="$work/compliance.json"
lap "compliance summary"

if [ -n "${FLEETOPS_MAIN_JOB_OUTPUT:-}" ]; then
    mkdir -p "$FLEETOPS_MAIN_JOB_OUTPUT"
    cp -r "$work/drift-reports" "$work/compliance.json" "$FLEETOPS_MAIN_JOB_OUTPUT/"
fi

say "summary"
printf '%s\n' "${timings[@]}"
printf '%-28s %4ds\n' "total (before teardown)" $((SECONDS - started))
