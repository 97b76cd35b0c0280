#!/usr/bin/env bash
# shellcheck disable=SC2154 # work, url, inventory, session_args, ...: set by lib.sh
# fleetops.ssm.session on real sandbox nodes: three nodes of our own registered with the local
# SSM endpoint, reached through the session-manager-plugin stand-in. Needs root (the sandbox
# and the stand-in enter the nodes).
#
# ansible-test passes "-e @<config>.json" (aws_* variables) and -v flags; they reach every
# playbook. Against a real AWS account (no aws_endpoint_url) there is no sandbox: skipped.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
. "$here/lib.sh"

session_setup "$@"

step_core() {
    # Every core module, with -vvvv, forks 10; the session token must never show in the log
    # nor in the process list, and each host gets exactly one session.
    local log=$work/core.log ps_log=$work/ps.log watcher rc=0
    reset_calls
    # A StartSession response of our endpoint (token and stream URL together) on a command line;
    # other runs on this machine, against other endpoints, do not count.
    local stream="${url#*://}/v1/data-channel"
    # shellcheck disable=SC2009 # the whole command line of every process is what is checked
    (while :; do ps -eo args | grep -v grep | grep -c -F -e "$stream" || true; sleep 0.5; done >"$ps_log") &
    watcher=$!
    playbook core.yml -f 10 -vvvv >"$log" 2>&1 || rc=$?
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
    [ "$rc" -eq 0 ] || { tail -n 80 "$log"; fail "core.yml failed"; }
    expect_starts 3 "core.yml on 3 hosts"
    if grep -q -e TokenValue -e StreamUrl -e "$stream" "$log"; then
        fail "a session token or stream URL appears in the -vvvv log"
    fi
    if grep -qv '^0$' "$ps_log"; then fail "a session token appeared in ps output"; fi
    echo "ok: no token in $(wc -l <"$log") lines of -vvvv output nor in $(wc -l <"$ps_log") ps snapshots"
    for f in binary empty; do
        for n in node-1 node-2 node-3; do
            cmp "$SESSION_TEST_TMP/$f" "$SESSION_TEST_TMP/fetched/$n/tmp/session-test/$f"
        done
    done
    echo "ok: fetched files equal the originals"
}

step_big() {
    # 50 MB round trip and 100 MB of output on node-1, while the helpers of node-2 and node-3
    # wait with a short idle timeout: a long task of the run keeps them (one session per host).
    reset_calls
    FLEETOPS_SSM_PERSIST_IDLE_TIMEOUT=10 playbook big.yml || fail "big.yml failed"
    cmp "$SESSION_TEST_TMP/big" "$SESSION_TEST_TMP/big.back"
    echo "ok: 50 MB round trip, sha256 $(sha256sum <"$SESSION_TEST_TMP/big.back" | cut -c1-16)..."
    expect_starts 3 "big.yml on 3 hosts with a 10 s idle timeout and tasks of more than 10 s"
}

step_s3() {
    # transfer_method s3/auto through the endpoint's S3, SSE-KMS, python3 instead of curl, a missing
    # bucket; nothing left on the node nor in the bucket; still one session per host.
    head -c 3000000 /dev/urandom >"$SESSION_TEST_TMP/medium"
    sha256sum <"$SESSION_TEST_TMP/medium" | cut -c1-64 | tr -d '\n' >"$SESSION_TEST_TMP/medium.sha256"
    reset_calls
    SESSION_TEST_BUCKET="fleetops-session-$(date +%s)-$$" playbook s3.yml || fail "s3.yml failed"
    cmp "$SESSION_TEST_TMP/medium" "$SESSION_TEST_TMP/medium.s3-back"
    cmp "$SESSION_TEST_TMP/binary" "$SESSION_TEST_TMP/binary.python-back"
    echo "ok: copies and fetches through S3 (curl and python3) equal the originals"
}

step_node_clean() {
    # The runs so far ended normally: once their helpers are gone, their sessions have removed
    # their blob directories (module code), and no transfer left a temporary file.
    local n left
    step_control_dir_clean
    for n in node-1 node-2 node-3; do
        left=$(fleet exec "$n" -- sh -c 'ls -d /tmp/fleetops-ssm.* 2>/dev/null; find /tmp /home/ssm-user /root -name "*.fleetops-*.part" 2>/dev/null' || true)
        [ -z "$left" ] || fail "$n: files left by the sessions: $left"
    done
    echo "ok: no blob directory and no partial file left on the nodes"
}

step_token_boundary() {
    # session-manager-plugin 1.2.497.0 takes the StartSession response as JSON on its command line
    # (warning); 1.2.497.1 reads it from the environment variable (no warning).
    local out version
    for version in 1.2.497.0 1.2.497.1; do
        out=$(FLEETOPS_SMP_VERSION=$version ansible -i "$inventory" node-2 -m ansible.builtin.ping \
            "${session_args[@]}" 2>&1) || { echo "$out"; fail "ping with plugin $version failed"; }
        if [ "$version" = 1.2.497.0 ]; then
            echo "$out" | grep -q "visible in the process list" || { echo "$out"; fail "no warning for plugin $version"; }
        elif echo "$out" | grep -q "process list"; then
            echo "$out"
            fail "a warning for plugin $version, which reads the environment variable"
        fi
        echo "ok: plugin $version: $(echo "$out" | grep -c 'SUCCESS') success, $(echo "$out" | grep -c 'process list') warning"
    done
}

step_timeout() {
    reset_calls
    playbook timeout.yml || fail "timeout.yml failed"
    expect_starts 1 "command_timeout (the node kills the command, the session stays)"
}

step_reboot() {
    reset_calls
    playbook reboot.yml || fail "reboot.yml failed"
}

step_missing_binary() {
    local out
    out=$(FLEETOPS_SSM_SESSION_PLUGIN=/nonexistent/session-manager-plugin \
        ansible -i "$inventory" node-1 -m ansible.builtin.ping "${session_args[@]}" 2>&1 || true)
    if ! echo "$out" | grep -q "session-manager-plugin binary was not found.*install it from https://"; then
        echo "$out"
        fail "no clear error for a missing session-manager-plugin"
    fi
    echo "ok: missing binary: $(echo "$out" | grep -o 'The session-manager-plugin binary was not found[^:]*')"
}

step_node_killed() {
    # node-3 is killed (its init and nspawn get SIGKILL) while it runs a task: UNREACHABLE with
    # the dead session's reason within 30 s, and no second session (nothing is run again).
    local log=$work/killed.log pid t0 t1 leader
    reset_calls
    playbook killed.yml -v >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 120); do
        if fleet exec node-3 -- pgrep -f 'sleep 3[0-9][0-9]' >/dev/null 2>&1; then break; fi
        sleep 0.5
    done
    fleet exec node-3 -- pgrep -f 'sleep 3[0-9][0-9]' >/dev/null || { kill "$pid"; cat "$log"; fail "the task never started"; }
    leader=$(node_leader node-3)
    t0=$(date +%s.%N)
    kill -KILL "$leader"
    local rc=0
    wait "$pid" || rc=$?
    t1=$(date +%s.%N)
    cat "$log"
    grep -q 'UNREACHABLE!' "$log" || fail "node-3 was not reported unreachable (exit $rc)"
    if grep -q TargetNotConnected "$log"; then fail "the reason shown is a new session's, not the dead one's"; fi
    grep -Eq 'no longer connected|was terminated|exited' "$log" || fail "no clear reason in the unreachable message"
    local took
    took=$(python3 -c "print(round($t1 - $t0, 1))")
    echo "ok: node-3 unreachable ${took}s after it was killed"
    python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 30 else 1)" || fail "unreachable after ${took}s (more than 30 s)"
    expect_starts 1 "the killed-node run (no new session after the node died)"
}

run_steps core big s3 token_boundary node_clean timeout reboot missing_binary node_killed control_dir_clean
echo "connection_session: all checks passed in $((SECONDS))s"
