#!/usr/bin/env bash
# Install everything the tests need; safe to run again (fast when nothing changed).
#  1. Debian/Ubuntu packages: git, rsync, shellcheck, and venv support for Python.
#  2. A virtual environment with requirements-dev.txt, reinstalled only when the
#     requirement files change (their hash is kept in the venv).
#  3. amazon.aws and community.aws (shipped by the ansible package) copied beside the
#     collection, where ansible-test's unit and sanity runs look for dependencies.
#  4. The offline stand-in for ansible-test's pip bootstrap script.
#  5. The collection mirrored into the collections root (tests/scripts/sync-collection.sh).
# Locations: see tests/scripts/lib.sh.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fleetops_lock
started=$SECONDS

# ---------------------------------------------------------------- 1. system packages
python_bin=${FLEETOPS_PYTHON:-}
if [ -z "$python_bin" ]; then
    python_bin=$(command -v python3.11 || command -v python3 || true)
fi

missing=()
command -v git >/dev/null || missing+=(git)
command -v rsync >/dev/null || missing+=(rsync)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [ -z "$python_bin" ]; then
    missing+=(python3 python3-venv)
elif ! "$python_bin" -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian splits ensurepip (needed by "python3 -m venv") into python3-venv.
    missing+=(python3-venv)
fi

if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || fleetops_die "missing: ${missing[*]} (no apt-get here: install them by hand)"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || fleetops_die "missing: ${missing[*]}; run as root or install them by hand"
        sudo=(sudo)
    fi
    fleetops_log "apt-get install ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" </dev/null >/dev/null
    [ -n "$python_bin" ] || python_bin=$(command -v python3.11 || command -v python3)
fi

py_version=$("$python_bin" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$py_version" != "$FLEETOPS_TEST_PYTHON_VERSION" ]; then
    fleetops_die "$python_bin is Python $py_version; the tests need Python $FLEETOPS_TEST_PYTHON_VERSION (set FLEETOPS_PYTHON)"
fi

# ---------------------------------------------------------------- 2. virtual environment
req_hash=$(cat "$FLEETOPS_ROOT/requirements.txt" "$FLEETOPS_ROOT/requirements-dev.txt" \
    | { cat; printf 'python=%s\n' "$py_version"; } | sha256sum | cut -d' ' -f1)
stamp=$FLEETOPS_VENV/.fleetops-requirements.sha256

if ! "$FLEETOPS_VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == tuple(map(int, sys.argv[1].split(".")))' \
    "$py_version" 2>/dev/null; then
    fleetops_log "creating venv $FLEETOPS_VENV"
    rm -rf "$FLEETOPS_VENV"
    mkdir -p "$(dirname "$FLEETOPS_VENV")"
    "$python_bin" -m venv "$FLEETOPS_VENV"
fi

if [ "$(cat "$stamp" 2>/dev/null || true)" != "$req_hash" ]; then
    fleetops_log "installing requirements-dev.txt into $FLEETOPS_VENV"
    rm -f "$stamp"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$FLEETOPS_VENV/bin/python" -m pip install -q --no-input \
        -r "$FLEETOPS_ROOT/requirements-dev.txt" </dev/null
    printf '%s\n' "$req_hash" >"$stamp"
fi

fleetops_activate

# ---------------------------------------------------------------- 3. collection dependencies
# ansible-test points ANSIBLE_COLLECTIONS_PATH at the collections root only, so the
# dependencies must sit beside fleetops.ssm there (ansible-galaxy cannot reach Galaxy).
site_collections=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections
mkdir -p "$FLEETOPS_COLLECTIONS/ansible_collections"
for dep in amazon/aws community/aws; do
    dep_src=$site_collections/$dep
    dep_dest=$FLEETOPS_COLLECTIONS/ansible_collections/$dep
    [ -f "$dep_src/MANIFEST.json" ] || fleetops_die "${dep/\//.} is not in the venv (it comes with the ansible package)"
    if ! cmp -s "$dep_src/MANIFEST.json" "$dep_dest/MANIFEST.json" 2>/dev/null; then
        fleetops_log "copying ${dep/\//.} into $FLEETOPS_COLLECTIONS"
        mkdir -p "$dep_dest"
        rsync -rlpt --delete --exclude=__pycache__ "$dep_src/" "$dep_dest/"
    fi
done

# ---------------------------------------------------------------- 4. offline pip bootstrap
# ansible-test builds its venvs without pip, then runs ~/.ansible/test/cache/get_pip_<ver>.py
# (downloaded from a host we cannot reach). Provide it under ansible-test's HOME.
pip_version=$(python - <<'PY' 2>/dev/null || true
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version='3.11'))['pip'])
PY
)
if [ -z "$pip_version" ]; then
    # fall back to reading the pinned default from the source
    at_src=$(python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
    pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$at_src/_internal/python_requirements.py" | head -n1)
fi
[ -n "$pip_version" ] || fleetops_die "cannot tell which pip version ansible-test bootstraps"

pip_cache=$FLEETOPS_TEST_HOME/.ansible/test/cache
standin=$pip_cache/get_pip_${pip_version//./_}.py
mkdir -p "$pip_cache"
if ! compgen -G "$pip_cache/pip-$pip_version-*.whl" >/dev/null; then
    fleetops_log "downloading the pip $pip_version wheel for ansible-test"
    PIP_DISABLE_PIP_VERSION_CHECK=1 python -m pip download -q --no-input --no-deps \
        --only-binary=:all: -d "$pip_cache" "pip==$pip_version" </dev/null
fi
if ! cmp -s "$FLEETOPS_ROOT/tests/scripts/get_pip_offline.py" "$standin"; then
    cp "$FLEETOPS_ROOT/tests/scripts/get_pip_offline.py" "$standin"
fi

# ---------------------------------------------------------------- 5. collection layout
"$FLEETOPS_ROOT/tests/scripts/sync-collection.sh" >/dev/null

fleetops_log "bootstrap done in $(fleetops_duration $((SECONDS - started))) (venv: $FLEETOPS_VENV, collection: $FLEETOPS_COLLECTION_DIR)"
