#!/usr/bin/env bash
# shellcheck disable=SC2154 # work, url, inventory, session_args, ...: set by lib.sh
# A command that runs for 15 minutes (SLOW_MINUTES, or the slow_minutes variable of the
# "-e @config" file) with no command_timeout set completes, on one session, while another
# host's helper waits through it (the run is not idle).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
. "$here/../connection_session/lib.sh"

session_setup "$@"
minutes=${SLOW_MINUTES:-$(config_var slow_minutes 15)}

step_long_command() {
    reset_calls
    playbook slow.yml -e "slow_seconds=$((minutes * 60))" || fail "slow.yml failed"
    expect_starts 2 "a ${minutes}-minute command on node-1, node-2 waiting"
}

run_steps long_command control_dir_clean
echo "connection_session_slow: a ${minutes}-minute command completed; all checks passed in $((SECONDS))s"
