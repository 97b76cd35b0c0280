#!/usr/bin/env bash
# Builds the test stand-in for the amazon-ssm-agent Debian package, in one or more versions, and
# lays the packages out the way AWS serves the real ones, under a directory that any HTTP server
# can publish as a mirror:
#
#   OUT/repo/amazon-ssm-REGION/VERSION/debian_ARCH/amazon-ssm-agent.deb (+ .sig, + .sha256)
#   OUT/repo/amazon-ssm-REGION/latest/debian_ARCH/amazon-ssm-agent.deb  (the same for the highest VERSION)
#   OUT/signing-key.asc        the public key that signed the .sig files (a throwaway key made here)
#
#   tests/agent_package/build.sh --out DIR [--region us-east-1] [--arch amd64] VERSION...
#
# The package is test-only: it installs a service under the real name (amazon-ssm-agent) whose
# program reports to the local SSM endpoint (tests/endpoint/), see src/amazon_ssm_agent.py.
# Needs dpkg-deb and gpg.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="" region=us-east-1 arch="" versions=()
die() { echo "build.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --region) region=$2; shift 2 ;;
        --arch) arch=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) versions+=("$1"); shift ;;
    esac
done
[ -n "$out" ] || die "--out DIR is required"
[ ${#versions[@]} -gt 0 ] || die "give at least one version, such as 3.3.1000.0"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (package dpkg)"
command -v gpg >/dev/null || die "gpg is missing (package gnupg)"
[ -n "$arch" ] || arch=$(dpkg --print-architecture)
for version in "${versions[@]}"; do
    [[ $version =~ ^[0-9]+(\.[0-9]+){2,3}$ ]] || die "$version is not a version such as 3.3.1000.0"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
export GNUPGHOME=$out/gnupg
if [ ! -s "$out/signing-key.asc" ]; then
    rm -rf "$GNUPGHOME"
    mkdir -m 700 "$GNUPGHOME"
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
        --quick-gen-key "fleetops.ssm test agent package <test-agent@example.invalid>" ed25519 sign never
    gpg --batch --armor --export >"$out/signing-key.asc"
fi

build_one() {
    local version=$1 root dest
    root=$(mktemp -d)
    chmod 0755 "$root"
    trap 'rm -rf "$root"' RETURN
    install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/amazon/ssm" \
        "$root/var/lib/amazon/ssm" "$root/var/log/amazon/ssm"
    { echo '#!/usr/bin/python3'; sed "s/@VERSION@/$version/" "$here/src/amazon_ssm_agent.py"; } >"$root/usr/bin/amazon-ssm-agent"
    { echo '#!/usr/bin/python3'; sed "s/@VERSION@/$version/" "$here/src/ssm_cli.py"; } >"$root/usr/bin/ssm-cli"
    chmod 0755 "$root/usr/bin/amazon-ssm-agent" "$root/usr/bin/ssm-cli"
    install -m 0644 "$here/src/amazon-ssm-agent.service" "$root/lib/systemd/system/amazon-ssm-agent.service"
    install -m 0644 "$here/src/amazon-ssm-agent.json.template" "$root/etc/amazon/ssm/amazon-ssm-agent.json.template"
    cat >"$root/DEBIAN/control" <<CONTROL
Package: amazon-ssm-agent
Version: $version-1
Architecture: $arch
Maintainer: fleetops.ssm tests <test-agent@example.invalid>
Depends: python3
Section: admin
Priority: optional
Description: Test stand-in for the Amazon SSM Agent
 Installs a service named amazon-ssm-agent that registers with, and reports to,
 the local SSM endpoint of the fleetops.ssm tests. Not the real agent.
CONTROL
    cat >"$root/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable amazon-ssm-agent >/dev/null 2>&1
    systemctl restart amazon-ssm-agent
fi
SCRIPT
    cat >"$root/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl stop amazon-ssm-agent || true
    if [ "$1" = remove ]; then
        systemctl disable amazon-ssm-agent >/dev/null 2>&1 || true
    fi
fi
SCRIPT
    cat >"$root/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
SCRIPT
    chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
    dest=$out/repo/amazon-ssm-$region/$version/debian_$arch
    mkdir -p "$dest"
    dpkg-deb --root-owner-group -Zgzip --build "$root" "$dest/amazon-ssm-agent.deb" >/dev/null
    rm -f "$dest/amazon-ssm-agent.deb.sig"
    gpg --batch --quiet --detach-sign -o "$dest/amazon-ssm-agent.deb.sig" "$dest/amazon-ssm-agent.deb"
    sha256sum "$dest/amazon-ssm-agent.deb" | cut -d' ' -f1 >"$dest/amazon-ssm-agent.deb.sha256"
}

for version in "${versions[@]}"; do
    build_one "$version"
done
latest=$(printf '%s\n' "${versions[@]}" | sort -V | tail -n 1)
rm -rf "$out/repo/amazon-ssm-$region/latest"
mkdir -p "$out/repo/amazon-ssm-$region/latest"
cp -a "$out/repo/amazon-ssm-$region/$latest/debian_$arch" "$out/repo/amazon-ssm-$region/latest/"
echo "built amazon-ssm-agent ${versions[*]} ($arch; latest $latest) in $out/repo/amazon-ssm-$region"
