# shellcheck shell=bash
# Shared settings and helpers for tests/run, tests/demo and tests/scripts/*.
# Source it; it defines variables and functions only and changes nothing on disk.
#
# Every location can be overridden from the environment:
#   FLEETOPS_CACHE        base of everything below   (default: ~/.cache/fleetops-ssm)
#   FLEETOPS_VENV         Python virtual environment (default: $FLEETOPS_CACHE/venv)
#   FLEETOPS_COLLECTIONS  collections root holding ansible_collections/fleetops/ssm
#                         (default: $FLEETOPS_CACHE/collections)
#   FLEETOPS_TEST_HOME    HOME used for ansible-test (its venvs, its pip bootstrap cache)
#                         (default: $FLEETOPS_CACHE/home)
#   FLEETOPS_PYTHON       interpreter the venv is built from (default: python3.11, else python3)

if [ -z "${HOME:-}" ]; then
    HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
    export HOME
fi

FLEETOPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
FLEETOPS_CACHE=${FLEETOPS_CACHE:-$HOME/.cache/fleetops-ssm}
FLEETOPS_VENV=${FLEETOPS_VENV:-$FLEETOPS_CACHE/venv}
FLEETOPS_COLLECTIONS=${FLEETOPS_COLLECTIONS:-$FLEETOPS_CACHE/collections}
FLEETOPS_TEST_HOME=${FLEETOPS_TEST_HOME:-$FLEETOPS_CACHE/home}
FLEETOPS_COLLECTION_DIR=$FLEETOPS_COLLECTIONS/ansible_collections/fleetops/ssm
# The ansible-test Python version the collection is tested with.
FLEETOPS_TEST_PYTHON_VERSION=3.11
export FLEETOPS_ROOT FLEETOPS_CACHE FLEETOPS_VENV FLEETOPS_COLLECTIONS FLEETOPS_TEST_HOME \
    FLEETOPS_COLLECTION_DIR FLEETOPS_TEST_PYTHON_VERSION

fleetops_log() {
    printf '[fleetops] %s\n' "$*" >&2
}

fleetops_die() {
    printf '[fleetops] ERROR: %s\n' "$*" >&2
    exit 1
}

# Seconds as "1m05s" / "42s".
fleetops_duration() {
    local s=$1
    if [ "$s" -ge 60 ]; then
        printf '%dm%02ds' $((s / 60)) $((s % 60))
    else
        printf '%ds' "$s"
    fi
}

# Serialise runs that share one cache (venv, synced collection, ansible-test home).
# The lock is held by file descriptor 9 until the calling process exits; child scripts
# see FLEETOPS_LOCKED and do not try again. Close fd 9 (9>&-) for long-lived daemons.
fleetops_lock() {
    if [ -n "${FLEETOPS_LOCKED:-}" ]; then
        return 0
    fi
    if ! command -v flock >/dev/null; then
        fleetops_log "flock not found (util-linux): runs sharing $FLEETOPS_CACHE are not serialised"
        return 0
    fi
    mkdir -p "$FLEETOPS_CACHE"
    exec 9>"$FLEETOPS_CACHE/.lock"
    if ! flock -n 9; then
        fleetops_log "another run holds $FLEETOPS_CACHE/.lock; waiting for it"
        flock 9
    fi
    FLEETOPS_LOCKED=1
    export FLEETOPS_LOCKED
}

# Put the venv first on PATH (what "activate" does, without its shell functions).
fleetops_activate() {
    [ -x "$FLEETOPS_VENV/bin/python" ] || fleetops_die "no venv at $FLEETOPS_VENV; run tests/scripts/bootstrap.sh"
    VIRTUAL_ENV=$FLEETOPS_VENV
    PATH=$FLEETOPS_VENV/bin:$PATH
    export VIRTUAL_ENV PATH
    unset PYTHONHOME
}

# Run ansible-test inside the synced collection with its own HOME:
#  - its aws cloud plugin refuses to run while ~/.aws exists, and a user's ~/.aws must
#    neither be deleted nor leak credentials into tests;
#  - its venvs and the offline pip bootstrap script live under that HOME, apart from
#    anything the user keeps in ~/.ansible.
# pip keeps using the user's download cache.
fleetops_ansible_test() {
    (
        cd "$FLEETOPS_COLLECTION_DIR" || exit 1
        export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
        export HOME="$FLEETOPS_TEST_HOME"
        exec ansible-test "$@"
    )
}
