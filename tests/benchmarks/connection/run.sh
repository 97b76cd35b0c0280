#!/usr/bin/env bash
# Benchmark: one 20-task playbook (5 command, 5 copy, 5 stat, 4 template, 1 fetch) on 1 and then
# 3 sandbox nodes, through three connection plugins:
#   fleetops.ssm.session      Session Manager, one persistent session per host, pipelining on;
#   amazon.aws.aws_ssm        Session Manager, a session per task, files through an S3 bucket;
#   community.docker.nsenter  straight into the node's namespaces: no session layer, the lower bound.
# Both Session Manager plugins use the local SSM endpoint, its S3 and the session-manager-plugin
# stand-in. Prints wall time, seconds per task, ratios and StartSession calls side by side: the
# best of ROUNDS rounds (default 3), the least disturbed by other load, with the median and the
# slowest next to it. Not a test: it fails only when it cannot run.
#
#   sudo tests/benchmarks/connection/run.sh [ROUNDS]
#
# Needs root: the sandbox nodes are systemd-nspawn containers, and the plugin stand-in and
# nsenter enter them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../../.." && pwd)"
rounds="${1:-3}"
case "${rounds}" in
    '' | *[!0-9]* | 0) echo "usage: $0 [ROUNDS]  (ROUNDS: a positive number, default 3)" >&2; exit 2 ;;
esac

# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
. "${root}/tests/scripts/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
    fleetops_die "the connection benchmark must run as root (the sandbox nodes are systemd-nspawn" \
        "containers, and the session-manager-plugin stand-in and nsenter enter them): run it with sudo"
fi
fleetops_lock
"${root}/tests/scripts/bootstrap.sh"
fleetops_activate
"${root}/tests/scripts/sync-collection.sh" >/dev/null

# CPU time of a run, when this machine lets us make a cgroup (v1 cpuacct or v2): everything the run
# starts is counted (ansible-playbook and its workers, session helpers and plugin processes, the
# commands run in the nodes through nsenter), until its last process has exited. On a busy
# machine wall times vary with the other load; CPU seconds much less.
cgroup_base=""
if [ -d /sys/fs/cgroup/cpuacct ] && mkdir "/sys/fs/cgroup/cpuacct/fleetops-bench-$$" 2>/dev/null; then
    cgroup_base="/sys/fs/cgroup/cpuacct/fleetops-bench-$$"
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && mkdir "/sys/fs/cgroup/fleetops-bench-$$" 2>/dev/null; then
    cgroup_base="/sys/fs/cgroup/fleetops-bench-$$"
fi
cpu_seconds() {  # CGROUP: the CPU seconds used in it
    if [ -f "$1/cpuacct.usage" ]; then
        python -c 'import sys; print(int(open(sys.argv[1]).read()) / 1e9)' "$1/cpuacct.usage"
    else
        python -c 'import sys; print(int(dict(l.split() for l in open(sys.argv[1]))["usage_usec"]) / 1e6)' "$1/cpu.stat"
    fi
}
remove_cgroups() {
    [ -n "${cgroup_base}" ] || return 0
    rmdir "${cgroup_base}"/run-* "${cgroup_base}" 2>/dev/null || true
}

state="$(mktemp -d "${TMPDIR:-/tmp}/connection-benchmark.XXXXXX")"
results="${state}/results.jsonl"
cleanup() {
    remove_cgroups
    "${root}/tests/sandbox/fleet" down --state-dir "${state}/fleet" >/dev/null 2>&1 9>&- || true
    "${root}/tests/endpoint/ssm-endpoint" stop --state-dir "${state}/endpoint" >/dev/null 2>&1 9>&- || true
    rm -rf "${state}"
}
trap cleanup EXIT

mkdir -p "${state}/endpoint" "${state}/logs"
url="$("${root}/tests/endpoint/ssm-endpoint" start --state-dir "${state}/endpoint" </dev/null 9>&- | grep -Eo 'https?://[^[:space:]]+' | tail -n 1)"
"${root}/tests/sandbox/fleet" up -n 3 --state-dir "${state}/fleet" --endpoint "${url}" </dev/null >/dev/null 9>&-

# AWS_ENDPOINT_URL is botocore's own setting: it also points amazon.aws.aws_ssm (which has no
# endpoint option for SSM) at the local endpoint.
export AWS_ENDPOINT_URL="${url}" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 ANSIBLE_COLLECTIONS_PATH="${FLEETOPS_COLLECTIONS}" ANSIBLE_PIPELINING=1
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_HOST_KEY_CHECKING=false ANSIBLE_RETRY_FILES_ENABLED=false
# per-task times, for the breakdown by kind of task
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=100
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SESSION_MANAGER_PLUGIN
plugin="${root}/tests/endpoint/bin/session-manager-plugin"
bucket="fleetops-connection-benchmark"

# amazon.aws.aws_ssm moves every file (modules included) through S3: the node downloads them with
# curl from presigned URLs, which point at the endpoint on 127.0.0.1 (the nodes share the host
# network). Path-style addressing, since 127.0.0.1 has no bucket subdomains.
python - "${bucket}" <<'PY'
import sys

import boto3

boto3.client("s3").create_bucket(Bucket=sys.argv[1])
PY

# One inventory per plugin: the nodes with their instance ids and leader PIDs, plus the plugin's
# settings.
"${root}/tests/sandbox/fleet" ls --state-dir "${state}/fleet" --json 9>&- | python "${here}/bench.py" inventory >"${state}/nodes.ini"
inventory() {
    local name="$1"
    shift
    cp "${state}/nodes.ini" "${state}/${name}.ini"
    printf '%s\n' "$@" >>"${state}/${name}.ini"
}
inventory session ansible_connection=fleetops.ssm.session \
    "ansible_fleetops_ssm_plugin=${plugin}" \
    ansible_fleetops_ssm_region=us-east-1 \
    "ansible_fleetops_ssm_endpoint_url=${url}" \
    "ansible_fleetops_ssm_control_path_dir=${state}/cp" \
    ansible_pipelining=true
inventory aws_ssm ansible_connection=amazon.aws.aws_ssm \
    "ansible_aws_ssm_plugin=${plugin}" \
    ansible_aws_ssm_region=us-east-1 \
    "ansible_aws_ssm_bucket_name=${bucket}" \
    "ansible_aws_ssm_bucket_endpoint_url=${url}" \
    ansible_aws_ssm_s3_addressing_style=path
inventory nsenter ansible_connection=community.docker.nsenter

# run NAME HOSTS ROUND: the playbook once, through one plugin, on node-1 or on every node.
run() {
    local name="$1" hosts="$2" round="$3" limit="node-1" start end status=0 log cg="" cpu=""
    [ "${hosts}" -eq 1 ] || limit="nodes"
    log="${state}/logs/${name}-${hosts}-${round}.log"
    if [ -n "${cgroup_base}" ]; then
        cg="${cgroup_base}/run-${name}-${hosts}-${round}"
        mkdir "${cg}"
    fi
    curl -fsS -X DELETE "${url}/_fleetops/calls" >/dev/null
    start=$(date +%s.%N)
    (
        [ -z "${cg}" ] || echo "${BASHPID}" >"${cg}/cgroup.procs"
        exec ansible-playbook -i "${state}/${name}.ini" -l "${limit}" "${here}/playbook.yml" \
            -e "bench_run=${name}-${hosts}-${round}" -e "bench_fetch_dir=${state}/fetched/${name}-${hosts}-${round}" \
            >"${log}" 2>&1 9>&-
    ) || status=$?
    end=$(date +%s.%N)
    if [ -n "${cg}" ]; then
        # the session helpers end their sessions once the run is over: wait for them (at most 30 s)
        for _ in $(seq 1 120); do
            [ -n "$(cat "${cg}/cgroup.procs")" ] || break
            sleep 0.25
        done
        cpu=$(cpu_seconds "${cg}")
        rmdir "${cg}" 2>/dev/null || true
    fi
    python "${here}/bench.py" record "${results}" "${name}" "${hosts}" "${round}" "${start}" "${end}" \
        "${status}" "${log}" "$(curl -fsS "${url}/_fleetops/calls")" "${cpu}"
}

load_before="$(cut -d ' ' -f 1-3 /proc/loadavg)"
for round in $(seq "${rounds}"); do
    for hosts in 1 3; do
        for name in session aws_ssm nsenter; do
            run "${name}" "${hosts}" "${round}"
        done
    done
done

echo
echo "Connection benchmark: 20 tasks (5 command, 5 copy, 5 stat, 4 template, 1 fetch), sandbox nodes,"
echo "local SSM endpoint and session-manager-plugin stand-in, $(nproc) cores, best of ${rounds} round(s)"
echo "(load average before: ${load_before}, after: $(cut -d ' ' -f 1-3 /proc/loadavg))"
python "${here}/bench.py" report "${results}"
