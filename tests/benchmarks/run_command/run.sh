#!/usr/bin/env bash
# Benchmark: Run Command with fleetops.ssm.command, side by side with the session connection.
#
#   (a) uname -a on 3 sandbox nodes: one fleetops.ssm.command task, then one task per host over
#       fleetops.ssm.session; wall time (best and median of ROUNDS, default 3) and API calls each.
#   (b) fan-out to NODES (default 1000) nodes of the local endpoint whose executor returns at once
#       ("instant" nodes): one fleetops.ssm.command task by tag, one by instance ids (one command per
#       50 ids), and one in check mode; wall time and API calls per operation, and the polling target:
#       at most one ListCommandInvocations page per 50 nodes per poll, plus ListCommands.
#
#   sudo tests/benchmarks/run_command/run.sh [ROUNDS] [NODES]
#
# Not a test: it fails only when it cannot run, when a run fails, or when the polling target is missed.
# Needs root: the sandbox nodes are systemd-nspawn containers, and commands and sessions enter them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
rounds="${1:-3}"
nodes="${2:-1000}"
for value in "${rounds}" "${nodes}"; do
    case "${value}" in
        '' | *[!0-9]* | 0) echo "usage: $0 [ROUNDS] [NODES]  (positive numbers, default 3 and 1000)" >&2; exit 2 ;;
    esac
done

# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
. "${root}/tests/scripts/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
    fleetops_die "the Run Command benchmark must run as root (the sandbox nodes are systemd-nspawn containers," \
        "and Run Command and the session-manager-plugin stand-in enter them): run it with sudo"
fi
fleetops_lock
"${root}/tests/scripts/bootstrap.sh"
fleetops_activate
"${root}/tests/scripts/sync-collection.sh" >/dev/null

state="$(mktemp -d "${TMPDIR:-/tmp}/run-command-benchmark.XXXXXX")"
results="${state}/results.jsonl"
leader=""
cleanup() {
    "${root}/tests/sandbox/fleet" down --state-dir "${state}/fleet" >/dev/null 2>&1 9>&- || true
    "${root}/tests/endpoint/ssm-endpoint" stop --state-dir "${state}/endpoint" >/dev/null 2>&1 9>&- || true
    [ -z "${leader}" ] || kill "${leader}" 2>/dev/null || true
    rm -rf "${state}"
}
trap cleanup EXIT

mkdir -p "${state}/endpoint" "${state}/logs"
url="$("${root}/tests/endpoint/ssm-endpoint" start --state-dir "${state}/endpoint" </dev/null 9>&- | grep -Eo 'https?://[^[:space:]]+' | tail -n 1)"
"${root}/tests/sandbox/fleet" up -n 3 --state-dir "${state}/fleet" --endpoint "${url}" </dev/null >/dev/null 9>&-
"${root}/tests/sandbox/fleet" ls --state-dir "${state}/fleet" --json 9>&- >"${state}/fleet.json"
python "${here}/bench.py" inventory <"${state}/fleet.json" >"${state}/session.ini"
cat >>"${state}/session.ini" <<INI
ansible_connection=fleetops.ssm.session
ansible_fleetops_ssm_plugin=${root}/tests/endpoint/bin/session-manager-plugin
ansible_fleetops_ssm_region=us-east-1
ansible_fleetops_ssm_endpoint_url=${url}
ansible_fleetops_ssm_control_path_dir=${state}/cp
ansible_pipelining=true
INI
python "${here}/bench.py" ids <"${state}/fleet.json" >"${state}/sandbox.json"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export ANSIBLE_COLLECTIONS_PATH="${FLEETOPS_COLLECTIONS}" ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_HOST_KEY_CHECKING=false ANSIBLE_RETRY_FILES_ENABLED=false
# the time of the timed task itself, without ansible-playbook's start
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

# run NAME ROUND ARGS...: one ansible-playbook run, its wall time and the API calls it made.
run() {
    local name="$1" round="$2" start end status=0 log
    shift 2
    log="${state}/logs/${name}-${round}.log"
    curl -fsS --noproxy '*' -X DELETE "${url}/_fleetops/calls" >/dev/null
    start=$(date +%s.%N)
    ansible-playbook "$@" >"${log}" 2>&1 9>&- || status=$?
    end=$(date +%s.%N)
    # The session helpers of a run end after it, closing their sessions (TerminateSession): wait for
    # them, so that their calls count for their own run.
    for _ in $(seq 1 120); do
        [ -n "$(ls -A "${state}/cp" 2>/dev/null)" ] || break
        sleep 0.25
    done
    python "${here}/bench.py" record "${results}" "${name}" "${round}" "${start}" "${end}" "${status}" "${log}" \
        "$(curl -fsS --noproxy '*' "${url}/_fleetops/calls")"
}

load_before="$(cut -d ' ' -f 1-3 /proc/loadavg)"
for round in $(seq "${rounds}"); do
    run command "${round}" "${here}/command.yml" -e "bench_url=${url}" -e "@${state}/sandbox.json"
    run session "${round}" -i "${state}/session.ini" "${here}/session.yml"
done

# NODES instant nodes sharing one leader process (online while it lives), tagged Bench=fanout.
sleep 86400 &
leader=$!
python "${here}/bench.py" register "${url}" "${leader}" "${nodes}" fanout >"${state}/fanout.json"
run fanout-tag 1 "${here}/command.yml" -e "bench_url=${url}" -e "@${state}/fanout.json" -e bench_mode=tag
run fanout-ids 1 "${here}/command.yml" -e "bench_url=${url}" -e "@${state}/fanout.json" -e bench_mode=ids
run fanout-check 1 "${here}/command.yml" -e "bench_url=${url}" -e "@${state}/fanout.json" -e bench_mode=tag --check

echo
echo "Run Command benchmark: local SSM endpoint, sandbox nodes, $(nproc) cores"
echo "(load average before: ${load_before}, after: $(cut -d ' ' -f 1-3 /proc/loadavg))"
echo
python "${here}/bench.py" report "${results}" "${nodes}"
