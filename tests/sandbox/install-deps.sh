#!/usr/bin/env bash
# Install what the sandbox fleet (tests/sandbox/fleet) needs on a Debian host:
#   systemd-container  systemd-nspawn, which boots the nodes
#   debootstrap        builds the base root filesystem of the nodes
# plus nsenter (util-linux) and mount (mount). Idempotent: does nothing when everything
# is already installed, and runs apt-get update at most once.
# Must run as root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh must run as root (it uses apt-get)." >&2
    exit 1
fi

# command -> package that provides it
declare -A NEED=(
    [systemd-nspawn]=systemd-container
    [debootstrap]=debootstrap
    [nsenter]=util-linux
    [mount]=mount
)

missing=()
for cmd in "${!NEED[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ] && [ ! -x "/usr/sbin/$cmd" ]; then
        missing+=("${NEED[$cmd]}")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "sandbox dependencies already installed"
    exit 0
fi

# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "sandbox dependencies installed"
