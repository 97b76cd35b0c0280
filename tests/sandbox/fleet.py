"""Sandbox fleet: real Debian bookworm nodes under systemd-nspawn for the fleetops.ssm tests.

    fleet up [-n N] [--state-dir DIR] [--endpoint URL] [--region R] [--tags k=v ...]
    fleet down [--state-dir DIR]
    fleet status | ls [--state-dir DIR] [--json]
    fleet stop NAME / fleet start NAME [--state-dir DIR]
    fleet exec NAME [--state-dir DIR] -- CMD...
    fleet rootfs [--rebuild]

Run it through the `fleet` wrapper next to it; see README.md there. Python 3 standard
library only; most commands need root.
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROG = "fleet"
SUITE = "bookworm"
AGENT_VERSION = "3.3.0.0"
DEFAULT_REGION = "us-east-1"
DEFAULT_NODES = 3
IP_ADDRESS = "127.0.0.1"  # nodes share the host's network stack
NSPAWN_REBOOT_STATUS = 133  # systemd-nspawn's exit status when the container asked for a reboot
DEBIAN_CODENAMES = {"buster", "bullseye", "bookworm", "trixie", "forky", "sid",
                    "oldstable", "stable", "testing", "unstable"}
FALLBACK_MIRROR = "http://deb.debian.org/debian"
FALLBACK_SECURITY_MIRROR = "http://security.debian.org/debian-security"
NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# ----------------------------------------------------------------- rootfs recipe
# Anything that changes the resulting tree belongs in RECIPE: its hash is the version
# stored in the stamp file, so editing it makes the next `fleet up` rebuild the rootfs.
RECIPE_REVISION = 1
PACKAGES = [
    "systemd-sysv", "dbus", "python3", "sudo", "curl", "ca-certificates", "procps",
    "iproute2", "less", "util-linux", "bsdutils",  # bsdutils: script(1) for pty sessions
]
# Units that only make noise in a container node, or that would change the node behind
# the tests' back (apt timers upgrading packages the patching tests expect to be pending).
MASKED_UNITS = [
    "apt-daily.timer", "apt-daily-upgrade.timer", "apt-daily.service",
    "apt-daily-upgrade.service", "e2scrub_all.timer", "e2scrub_reap.service",
    "fstrim.timer", "console-getty.service", "getty-static.service",
    "systemd-timesyncd.service",
]
SETUP_SCRIPT = r"""
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
apt-get update -qq
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null

# ssm-user as the SSM agent creates it: a regular local user with a home directory and
# passwordless sudo through a drop-in named after the agent.
id ssm-user >/dev/null 2>&1 || useradd -m ssm-user
printf 'ssm-user ALL=(ALL) NOPASSWD:ALL\n' >/etc/sudoers.d/ssm-agent-users
chmod 0440 /etc/sudoers.d/ssm-agent-users
visudo -cq -f /etc/sudoers.d/ssm-agent-users

# No console logins: root's password stays locked and no getty runs on the (read-only)
# console; the way in is nsenter, as with SSM there is no login at all.
usermod -L root
systemctl set-default multi-user.target >/dev/null
systemctl mask $MASKED_UNITS >/dev/null 2>&1

# Every node gets its own identity when it is created.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id
: >/etc/hostname

# Full apt sources only now: what was installed above comes from the point release, so
# bookworm-updates / bookworm-security have real pending updates for the patching tests.
rm -f /etc/apt/sources.list
cat >/etc/apt/sources.list.d/debian.sources <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
if [ -n "$APT_PROXY_CONF" ]; then
    printf '%s\n' "$APT_PROXY_CONF" >/etc/apt/apt.conf.d/01proxy
fi

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old
rm -rf /var/log/journal/* /tmp/* /var/tmp/*
find /var/log -type f -name '*.log' -exec truncate -s 0 {} +
"""


class FleetError(Exception):
    """An error reported to the user in one sentence; the command exits non-zero."""


def plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def log(msg=""):
    print(msg, flush=True)


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr, flush=True)


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ----------------------------------------------------------------- environment checks
def effective_uid():
    # Test hook: pretend to run as another user (the checks only, nothing else).
    override = os.environ.get("FLEETOPS_SANDBOX_ASSUME_UID")
    return int(override) if override not in (None, "") else os.geteuid()


def require_root(command):
    if effective_uid() != 0:
        raise FleetError(f"'{PROG} {command}' must run as root (it mounts overlays and boots "
                         f"containers with systemd-nspawn): run it with sudo")


TOOLS = {
    # command: (package, what it is needed for)
    "systemd-nspawn": ("systemd-container", "boots the nodes"),
    "debootstrap": ("debootstrap", "builds the base root filesystem"),
    "nsenter": ("util-linux", "enters the nodes"),
    "mount": ("mount", "mounts the node disks"),
    "umount": ("mount", "unmounts the node disks"),
}


def tool(name):
    """Absolute path of a required host command, or a FleetError naming the package."""
    path = shutil.which(name)
    if path is None:
        package, purpose = TOOLS[name]
        raise FleetError(f"{name} is missing ({purpose}): apt-get install -y {package} "
                         f"(or run tests/sandbox/install-deps.sh)")
    return path


def check_tools(*names):
    for name in names:
        tool(name)


def env_mb(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def existing_parent(path):
    path = Path(path).absolute()
    while not path.exists():
        path = path.parent
    return path


def require_space(path, needed_mb, what):
    base = existing_parent(path)
    free_mb = shutil.disk_usage(base).free // (1024 * 1024)
    if free_mb < needed_mb:
        raise FleetError(f"not enough free disk space in {base}: {free_mb} MB free, {needed_mb} MB "
                         f"needed for {what}; free some space or point "
                         f"{'FLEETOPS_CACHE' if 'rootfs' in what else '--state-dir'} at a larger "
                         f"filesystem")


# ----------------------------------------------------------------- paths and locks
def cache_root():
    base = os.environ.get("FLEETOPS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                            "fleetops-ssm")
    return Path(base) / "sandbox"


def rootfs_dir():
    return cache_root() / f"rootfs-{SUITE}"


def stamp_file():
    return cache_root() / f"rootfs-{SUITE}.stamp"


def default_state_dir():
    return Path(os.environ.get("FLEETOPS_SANDBOX_STATE") or cache_root() / "fleet")


class Lock:
    """An exclusive flock on a file, as a context manager."""

    def __init__(self, path):
        self.path = Path(path)
        self.fd = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None


def write_json(path, data):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_json(path, default=None):
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return default


class Fleet:
    """The state directory: fleet.json plus nodes/<name>/node.json and the node disks."""

    def __init__(self, state_dir):
        self.dir = Path(state_dir).absolute()

    @property
    def file(self):
        return self.dir / "fleet.json"

    def lock(self):
        return Lock(self.dir / ".lock")

    def load(self):
        return read_json(self.file)

    def save(self, data):
        self.dir.mkdir(parents=True, exist_ok=True)
        write_json(self.file, data)

    def node_dir(self, name):
        return self.dir / "nodes" / name

    def node_lock(self, name):
        return Lock(self.node_dir(name) / ".lock")

    def node(self, name):
        return read_json(self.node_dir(name) / "node.json")

    def update_node(self, name, /, **changes):
        with self.node_lock(name):
            data = self.node(name) or {}
            data.update(changes)
            write_json(self.node_dir(name) / "node.json", data)
            return data

    def node_names(self):
        data = self.load()
        if data:
            return list(data.get("nodes", []))
        nodes = self.dir / "nodes"
        return sorted(p.name for p in nodes.iterdir()) if nodes.is_dir() else []


# ----------------------------------------------------------------- processes
def proc_stat(pid):
    """(state, ppid, starttime) of a process, or None if it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def proc_start(pid):
    st = proc_stat(pid)
    return st[2] if st else None


def alive(pid, start=None):
    """A live process (zombies count as dead) that is still the one we recorded."""
    if not pid:
        return False
    st = proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return start is None or st[2] == start


def pidns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def kill(pid, sig, start=None):
    if alive(pid, start):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def wait_gone(procs, timeout):
    """Wait until none of the (pid, start) pairs is alive; True if they all went."""
    deadline = time.monotonic() + timeout
    while True:
        if not any(alive(pid, start) for pid, start in procs):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def is_sandbox_process(args, state_dir):
    """A supervisor or systemd-nspawn process of the fleet in state_dir (by command line)."""
    if not args or not args[0]:
        return False
    state = str(state_dir).encode()
    if b"_supervise" in args and state in args:
        return True
    return os.path.basename(args[0]) == b"systemd-nspawn" and any(
        a.startswith(state + b"/") for a in args)


def node_processes(fleet, name, node):
    """Every live process that belongs to a node: its supervisor, its systemd-nspawn (the
    node's disk is its -D argument), anything in the node's PID namespace."""
    found = set()
    ns = set(node.get("pidns_seen", [])) if node else set()
    root = ((node or {}).get("root") or "").encode()
    for pid in all_pids():
        if pid == os.getpid() or not alive(pid):
            continue
        if ns and pidns(pid) in ns:
            found.add(pid)
            continue
        args = cmdline(pid)
        if not is_sandbox_process(args, fleet.dir):
            continue
        if args[-1] == name.encode() or (root and root in args):
            found.add(pid)
    return sorted(found)


def node_env():
    env = {"PATH": NODE_PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": os.environ.get("TERM", "dumb")}
    return env


def nsenter_cmd(leader):
    return [tool("nsenter"), "-t", str(leader), "-a", "--"]


# ----------------------------------------------------------------- mounts
def mounts_under(path):
    """Mount points at or below path (deepest first), from /proc/self/mountinfo."""
    path = str(Path(path).absolute())
    result = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            target = line.split()[4].encode().decode("unicode_escape")
            if target == path or target.startswith(path.rstrip("/") + "/"):
                result.append(target)
    return sorted(set(result), key=len, reverse=True)


def overlays_on(lower):
    """Overlay mounts that use `lower` as their lower directory."""
    lower = str(Path(lower).absolute())
    hits = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _sep, post = line.partition(" - ")
            fields = post.split()
            if fields and fields[0] == "overlay" and f"lowerdir={lower}" in post:
                hits.append(pre.split()[4])
    return hits


def unmount_all(path):
    """Unmount everything at or under path; returns what could not be unmounted."""
    for target in mounts_under(path):
        r = subprocess.run([tool("umount"), target], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            subprocess.run([tool("umount"), "-l", target], capture_output=True, text=True, check=False)
    return mounts_under(path)


# ----------------------------------------------------------------- apt mirror of the host
def _sources_entries():
    """(types, uris, suites, components) from the host's apt sources, both formats."""
    entries = []
    files = [Path("/etc/apt/sources.list")]
    d = Path("/etc/apt/sources.list.d")
    if d.is_dir():
        files += sorted(d.iterdir())
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        if f.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line or line[:1].isspace():
                        continue
                    k, _sep, v = line.partition(":")
                    fields[k.strip().lower()] = v.split()
                if fields.get("enabled", ["yes"])[0].lower() == "no":
                    continue
                entries.append((fields.get("types", []), fields.get("uris", []),
                                fields.get("suites", []), fields.get("components", [])))
        elif f.name == "sources.list" or f.suffix == ".list":
            for line in text.splitlines():
                line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
                if len(line) >= 3 and line[0] in ("deb", "deb-src"):
                    entries.append(([line[0]], [line[1]], [line[2]], line[3:]))
    return entries


def host_mirrors():
    """(mirror, security mirror) for the nodes: the host's Debian mirrors, else Debian's."""
    mirror = os.environ.get("FLEETOPS_SANDBOX_MIRROR")
    security = os.environ.get("FLEETOPS_SANDBOX_SECURITY_MIRROR")
    for types, uris, suites, _components in _sources_entries():
        if "deb" not in types or not uris:
            continue
        for suite in suites:
            base, _sep, tail = suite.partition("-")
            if mirror is None and suite in DEBIAN_CODENAMES:
                mirror = uris[0].rstrip("/")
            elif security is None and (
                    (base in DEBIAN_CODENAMES and tail == "security") or suite.endswith("/updates")):
                security = uris[0].rstrip("/")
    return mirror or FALLBACK_MIRROR, security or FALLBACK_SECURITY_MIRROR


def host_apt_proxy():
    """The host's apt proxy settings, if any, so that apt inside the nodes works the same."""
    try:
        out = subprocess.run(["apt-config", "dump"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = [line for line in out.splitlines()
             if re.match(r'^Acquire::(https?|ftp)::Proxy(::[^ ]+)? "', line)]
    return "\n".join(line + ";" for line in lines)


# ----------------------------------------------------------------- base rootfs
def recipe():
    mirror, security = host_mirrors()
    return {
        "revision": RECIPE_REVISION, "suite": SUITE, "variant": "minbase",
        "packages": PACKAGES, "masked": MASKED_UNITS, "script": SETUP_SCRIPT,
        "mirror": mirror, "security_mirror": security, "apt_proxy": host_apt_proxy(),
    }


def recipe_version(r):
    digest = hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest()[:16]
    return f"{r['revision']}-{digest}"


def rootfs_current(r=None):
    r = r or recipe()
    stamp = read_json(stamp_file(), {})
    return (rootfs_dir() / "usr/lib/os-release").exists() and \
        stamp.get("recipe_version") == recipe_version(r)


def _remove_tree(path):
    path = Path(path)
    if not path.exists():
        return
    left = unmount_all(path)
    if left:
        raise FleetError(f"cannot remove {path}: still mounted: {', '.join(left)}")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


def build_rootfs():
    """debootstrap + setup in a temporary directory, then rename it into place."""
    require_root("rootfs")
    check_tools("debootstrap", "systemd-nspawn")
    r = recipe()
    final = rootfs_dir()
    users = overlays_on(final)
    if users:
        raise FleetError(f"the base rootfs {final} is in use by running nodes ({users[0]}"
                         f"{' and more' if len(users) > 1 else ''}): run '{PROG} down' first")
    require_space(cache_root(), env_mb("FLEETOPS_SANDBOX_ROOTFS_MB", 1024), "the rootfs build")
    cache_root().mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".rootfs-{SUITE}.", dir=cache_root()))
    os.chmod(tmp, 0o755)
    t0 = time.monotonic()
    log(f"building the base rootfs ({SUITE}, minbase) from {r['mirror']} ...")
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")
        _run_logged([tool("debootstrap"), "--variant=minbase", SUITE, str(tmp), r["mirror"]],
                    env, "debootstrap")
        t1 = time.monotonic()
        log(f"  debootstrap: {t1 - t0:.1f}s")
        script_env = {
            "PACKAGES": " ".join(PACKAGES), "MASKED_UNITS": " ".join(MASKED_UNITS),
            "MIRROR": r["mirror"], "SECURITY_MIRROR": r["security_mirror"], "SUITE": SUITE,
            "APT_PROXY_CONF": r["apt_proxy"],
        }
        # systemd-nspawn without -b is a chroot with /proc, /sys and /dev set up and torn
        # down for us; the host network is shared, so apt inside reaches the mirror.
        cmd = [tool("systemd-nspawn"), "-q", "-D", str(tmp), "--register=no", "--keep-unit",
               "--as-pid2", "--link-journal=no", "--resolv-conf=copy-host", "--timezone=off"]
        for k, v in script_env.items():
            cmd.append(f"--setenv={k}={v}")
        cmd += ["/bin/sh", "-c", SETUP_SCRIPT]
        _run_logged(cmd, env, "package installation in the rootfs")
        log(f"  packages and setup: {time.monotonic() - t1:.1f}s")
        # Atomic switch: the old tree (if any) is moved aside, the new one renamed in.
        stamp_file().unlink(missing_ok=True)
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.old.{os.getpid()}")
            os.rename(final, old)
        os.rename(tmp, final)
        write_json(stamp_file(), {
            "recipe_version": recipe_version(r), "build_id": secrets.token_hex(8),
            "built_at": now_iso(), "mirror": r["mirror"],
            "security_mirror": r["security_mirror"], "packages": PACKAGES,
            "build_seconds": round(time.monotonic() - t0, 1),
        })
        if old:
            _remove_tree(old)
    except BaseException:
        _remove_tree(tmp)
        raise
    log(f"base rootfs ready in {time.monotonic() - t0:.1f}s: {final}")


def _run_logged(cmd, env, what):
    r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, check=False)
    if r.returncode != 0:
        tail = "\n".join(r.stdout.splitlines()[-25:])
        raise FleetError(f"{what} failed (exit {r.returncode}):\n{tail}")


def ensure_rootfs(rebuild=False):
    """Build the rootfs if it is missing, stale (recipe changed) or a rebuild is asked for.
    Returns the seconds spent building (0 if the cached one was used)."""
    with Lock(cache_root() / ".rootfs.lock"):
        if not rebuild and rootfs_current():
            return 0.0
        if not rebuild and rootfs_dir().exists():
            log("the base rootfs recipe changed: rebuilding")
        t0 = time.monotonic()
        build_rootfs()
        return time.monotonic() - t0


# ----------------------------------------------------------------- registration
def endpoint_request(endpoint, method, path, body=None, timeout=5):
    """(HTTP status or None, message). Never raises: registration is best-effort."""
    url = endpoint.rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, "ok"
    except urllib.error.HTTPError as e:
        return e.code, e.reason
    except (urllib.error.URLError, OSError) as e:
        return None, str(getattr(e, "reason", e))


def registration_body(fleet_data, node, leader_pid):
    return {
        "instance_id": node["instance_id"], "resource_type": "ManagedInstance",
        "name": node["name"], "computer_name": node["name"], "ip_address": node["ip_address"],
        "platform_type": "Linux", "platform_name": node["platform_name"],
        "platform_version": node["platform_version"], "agent_version": AGENT_VERSION,
        "tags": node["tags"], "leader_pid": leader_pid, "root": node["root"],
        "region": fleet_data.get("region", DEFAULT_REGION),
    }


def _report(what, node_name, status, message):
    ok = status is not None and 200 <= status < 300
    result = {"at": now_iso(), "call": what, "status": status, "message": None if ok else message}
    if ok:
        result["result"] = "ok"
    elif status == 404:
        result["result"] = "not-implemented"
        warn(f"{node_name}: the endpoint answered 404 to {what} (control API for nodes not "
             f"implemented yet?); continuing without it")
    else:
        result["result"] = "error"
        warn(f"{node_name}: {what} failed: {status or ''} {message}".replace("  ", " "))
    return result


def register(fleet_data, node, leader_pid):
    endpoint = fleet_data.get("endpoint")
    if not endpoint:
        return {"at": now_iso(), "result": "skipped"}
    status, message = endpoint_request(endpoint, "POST", "/_fleetops/nodes",
                                       registration_body(fleet_data, node, leader_pid))
    return _report("POST /_fleetops/nodes", node["name"], status, message)


def deregister(fleet_data, node):
    endpoint = fleet_data.get("endpoint")
    if not endpoint:
        return {"at": now_iso(), "result": "skipped"}
    status, message = endpoint_request(endpoint, "DELETE",
                                       f"/_fleetops/nodes/{node['instance_id']}")
    return _report(f"DELETE /_fleetops/nodes/{node['instance_id']}", node["name"], status, message)


# ----------------------------------------------------------------- node disks
def os_release(root):
    info = {}
    for candidate in ("etc/os-release", "usr/lib/os-release"):
        p = Path(root) / candidate
        if p.exists():
            for line in p.read_text().splitlines():
                k, sep, v = line.partition("=")
                if sep:
                    info[k.strip()] = v.strip().strip('"').strip("'")
            break
    return info


def mount_disk(fleet, node):
    """Make the node's root directory available; returns the disk kind used."""
    ndir = fleet.node_dir(node["name"])
    base = rootfs_dir()
    if node.get("disk") == "copy":
        return "copy"
    merged, upper, work = ndir / "merged", ndir / "upper", ndir / "work"
    if mounts_under(merged):
        return "overlay"
    if os.environ.get("FLEETOPS_SANDBOX_DISK") != "copy":
        for d in (merged, upper, work):
            d.mkdir(parents=True, exist_ok=True)
        opts = f"lowerdir={base},upperdir={upper},workdir={work}"
        r = subprocess.run([tool("mount"), "-t", "overlay", "overlay", "-o", opts, str(merged)],
                           capture_output=True, text=True, check=False)
        if r.returncode == 0:
            return "overlay"
        if node.get("disk") == "overlay":  # an existing overlay disk cannot become a copy
            raise FleetError(f"cannot mount the disk of {node['name']}: {r.stderr.strip()}")
        warn(f"{node['name']}: overlay mount failed ({r.stderr.strip()}); copying the rootfs")
    else:
        warn(f"{node['name']}: FLEETOPS_SANDBOX_DISK=copy: copying the rootfs")
    for d in (merged, upper, work):
        if d.exists() and not mounts_under(d):
            d.rmdir()
    need = _tree_mb(base) + 50
    require_space(ndir, need, f"a copy of the rootfs for {node['name']}")
    r = subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(ndir / "rootfs")],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise FleetError(f"cannot copy the rootfs for {node['name']}: {r.stderr.strip()}")
    return "copy"


def _tree_mb(path):
    r = subprocess.run(["du", "-sxm", str(path)], capture_output=True, text=True, check=False)
    try:
        return int(r.stdout.split()[0])
    except (IndexError, ValueError):
        return 400


def node_root(fleet, name, disk):
    ndir = fleet.node_dir(name)
    return str(ndir / ("rootfs" if disk == "copy" else "merged"))


def personalize(root, node, region):
    """First-boot identity of a node, written into its own disk."""
    root = Path(root)
    name = node["name"]
    (root / "etc/hostname").write_text(name + "\n")
    (root / "etc/hosts").write_text(
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
    (root / "etc/machine-id").write_text(node["machine_id"] + "\n")
    # Where a registered (hybrid) agent keeps its identity.
    reg = root / "var/lib/amazon/ssm"
    reg.mkdir(parents=True, exist_ok=True)
    (reg / "registration").write_text(json.dumps(
        {"ManagedInstanceID": node["instance_id"], "Region": region}) + "\n")


# ----------------------------------------------------------------- supervisor
def spawn_supervisor(fleet, name):
    ndir = fleet.node_dir(name)
    (ndir / "stop-requested").unlink(missing_ok=True)
    # The state is set before the supervisor exists: it may reach "running" quickly.
    fleet.update_node(name, state="starting", supervisor_pid=None, supervisor_start=None,
                      nspawn_pid=None, nspawn_start=None, leader_pid=None, leader_start=None,
                      error=None)
    logf = open(ndir / "supervisor.log", "ab")
    try:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "_supervise", "--state-dir", str(fleet.dir),
             name],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True, cwd="/")
    finally:
        logf.close()
    start = None
    for _attempt in range(100):
        start = proc_start(proc.pid)
        if start is not None:
            break
        time.sleep(0.01)
    fleet.update_node(name, supervisor_pid=proc.pid, supervisor_start=start)
    return proc.pid


def find_leader(nspawn_pid, nspawn_start, timeout):
    """The container's init: a process in a new PID namespace whose ancestor is nspawn."""
    own = pidns(os.getpid())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(nspawn_pid, nspawn_start):
            return None
        for pid in all_pids():
            st = proc_stat(pid)
            if not st or st[0] == "Z" or st[1] != nspawn_pid:
                continue
            ns = pidns(pid)
            if ns and ns != own:
                return pid
        time.sleep(0.02)
    return None


def wait_booted(leader, leader_start, timeout, should_stop):
    """systemctl is-system-running --wait inside the node, retried until it answers
    running/degraded. Returns the final state string, or None on timeout."""
    deadline = time.monotonic() + timeout
    last = "unknown"
    while time.monotonic() < deadline and not should_stop():
        if not alive(leader, leader_start):
            return None
        try:
            r = subprocess.run(nsenter_cmd(leader) + ["systemctl", "is-system-running", "--wait"],
                               env=node_env(), stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=max(1.0, deadline - time.monotonic()), check=False)
            last = (r.stdout.strip() or r.stderr.strip() or "unknown").splitlines()[-1]
        except subprocess.TimeoutExpired:
            break
        if last in ("running", "degraded"):
            return last
        time.sleep(0.1)
    print(f"boot did not finish: last state '{last}'", flush=True)
    return None


def _failed_units(leader):
    """Names of the failed units in a node; their status goes to the supervisor log."""
    r = subprocess.run(nsenter_cmd(leader) + ["systemctl", "--failed", "--no-legend", "--plain"],
                       env=node_env(), capture_output=True, text=True, check=False)
    units = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    if units:
        r = subprocess.run(nsenter_cmd(leader) + ["systemctl", "status", "--no-pager", "--lines=15"]
                           + units, env=node_env(), capture_output=True, text=True, check=False)
        print(r.stdout, flush=True)
    return units


def supervise(state_dir, name):
    """One node's supervisor: runs systemd-nspawn, restarts it on reboot, registers boots."""
    fleet = Fleet(state_dir)
    ndir = fleet.node_dir(name)
    stop = {"requested": False}
    current = {"proc": None}

    def stop_requested():
        return stop["requested"] or (ndir / "stop-requested").exists()

    def on_signal(signum, _frame):
        stop["requested"] = True
        proc = current["proc"]
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)  # nspawn shuts the node down cleanly
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def say(msg):
        print(f"{now_iso()} {name}: {msg}", flush=True)

    fleet_data = fleet.load() or {}
    node = fleet.node(name)
    boot_timeout = float(os.environ.get("FLEETOPS_SANDBOX_BOOT_TIMEOUT", "90"))
    fail_nodes = os.environ.get("FLEETOPS_SANDBOX_FAIL_NODES", "").split(",")
    final_state = "stopped"
    was_running = False
    say(f"supervisor {os.getpid()} started")
    while not stop_requested():
        if name in fail_nodes:  # test hook: a node that never comes up
            say("FLEETOPS_SANDBOX_FAIL_NODES: failing on purpose")
            final_state = "failed"
            fleet.update_node(name, error="failed on purpose (FLEETOPS_SANDBOX_FAIL_NODES)")
            break
        t0 = time.monotonic()
        cmd = [tool("systemd-nspawn"), "-D", node["root"], "-b", "--register=no", "--keep-unit",
               "-M", name, "--console=read-only", "--link-journal=no"]
        with open(ndir / "console.log", "ab") as console:
            console.write(f"\n===== {now_iso()} boot {node.get('boot_count', 0) + 1} =====\n".encode())
            console.flush()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=console,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    close_fds=True, cwd="/")
        current["proc"] = proc
        nspawn_start = proc_start(proc.pid)
        node = fleet.update_node(name, state="booting", nspawn_pid=proc.pid,
                                 nspawn_start=nspawn_start, leader_pid=None, leader_start=None)
        leader = find_leader(proc.pid, nspawn_start, 30)
        if leader is None:
            say("systemd-nspawn started no container (see console.log)")
            final_state = "failed"
            break
        leader_start = proc_start(leader)
        seen = list(node.get("pidns_seen", []))
        ns = pidns(leader)
        if ns and ns not in seen:
            seen = (seen + [ns])[-8:]
        node = fleet.update_node(name, leader_pid=leader, leader_start=leader_start, pidns_seen=seen)
        system_state = wait_booted(leader, leader_start, boot_timeout, stop_requested)
        if system_state is None:
            if stop_requested():
                break
            say("the node did not finish booting in time")
            final_state = "failed"
            break
        boot_seconds = round(time.monotonic() - t0, 2)
        say(f"booted ({system_state}) in {boot_seconds}s, leader pid {leader}")
        failed_units = []
        if system_state == "degraded":
            failed_units = _failed_units(leader)
            say("failed units: " + " ".join(failed_units))
        registration = register(fleet_data, node, leader)
        say(f"registration: {registration['result']}")
        node = fleet.update_node(name, state="running", system_state=system_state,
                                 failed_units=failed_units,
                                 boot_count=node.get("boot_count", 0) + 1, booted_at=now_iso(),
                                 boot_seconds=boot_seconds, registration=registration)
        was_running = True
        rc = proc.wait()
        current["proc"] = None
        say(f"systemd-nspawn exited with status {rc}")
        node = fleet.update_node(name, last_exit=rc)
        if rc == NSPAWN_REBOOT_STATUS and not stop_requested():
            node = fleet.update_node(name, state="rebooting", leader_pid=None, leader_start=None)
            continue
        break

    proc = current["proc"]
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if was_running and not stop_requested():
        # powered off (or crashed) from the inside: the endpoint sees the connection lost
        node = fleet.update_node(name, registration=register(fleet_data, node, None))
    if node.get("disk") == "overlay":
        unmount_all(ndir / "merged")  # the disk (upper dir) stays; `fleet start` remounts it
    fleet.update_node(name, state=final_state, leader_pid=None, leader_start=None,
                      nspawn_pid=None, nspawn_start=None)
    say(f"supervisor exits ({final_state})")


# ----------------------------------------------------------------- node lifecycle
def instance_id(fleet_id, name):
    return "mi-" + hashlib.sha256(f"{fleet_id}:{name}".encode()).hexdigest()[:17]


def create_node(fleet, fleet_data, index, extra_tags):
    name = f"node-{index}"
    tags = {"Name": name, "Environment": "sandbox",
            "Patch Group": "sandbox-" + ("a" if index % 2 == 1 else "b")}
    tags.update(extra_tags)
    ndir = fleet.node_dir(name)
    ndir.mkdir(parents=True, exist_ok=True)
    node = {
        "name": name, "index": index, "instance_id": instance_id(fleet_data["fleet_id"], name),
        "machine_id": hashlib.sha256(f"{fleet_data['fleet_id']}:{name}:machine".encode()).hexdigest()[:32],
        "ip_address": IP_ADDRESS, "tags": tags, "state": "created", "created": now_iso(),
        "boot_count": 0, "console_log": str(ndir / "console.log"),
    }
    fleet.update_node(name, **node)
    disk = mount_disk(fleet, node)
    root = node_root(fleet, name, disk)
    personalize(root, node, fleet_data["region"])
    rel = os_release(root)
    return fleet.update_node(name, disk=disk, root=root, platform_name=rel.get("NAME", "Linux"),
                             platform_version=rel.get("VERSION_ID", ""),
                             platform_pretty_name=rel.get("PRETTY_NAME", ""))


def wait_running(fleet, names, timeout):
    """Wait for the nodes to reach 'running'; returns {name: error} for those that did not."""
    deadline = time.monotonic() + timeout
    pending = set(names)
    errors = {}
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            node = fleet.node(name) or {}
            if node.get("state") == "running":
                pending.discard(name)
            elif node.get("state") in ("failed", "stopped") or not alive(
                    node.get("supervisor_pid"), node.get("supervisor_start")):
                if (fleet.node(name) or {}).get("state") == "running":
                    pending.discard(name)
                    continue
                errors[name] = node.get("error") or f"did not boot (state {node.get('state')})"
                pending.discard(name)
        time.sleep(0.05)
    for name in pending:
        errors[name] = f"did not boot within {timeout:.0f}s"
    return errors


def stop_node(fleet, name, timeout=30.0):
    """Stop a node's processes by their recorded PIDs and unmount its disk.
    Returns the PIDs still alive afterwards (should be none)."""
    node = fleet.node(name) or {}
    ndir = fleet.node_dir(name)
    if ndir.exists():
        (ndir / "stop-requested").write_text(now_iso() + "\n")
    sup = (node.get("supervisor_pid"), node.get("supervisor_start"))
    nsp = (node.get("nspawn_pid"), node.get("nspawn_start"))
    lead = (node.get("leader_pid"), node.get("leader_start"))
    # the supervisor first, so that it does not start the node again
    kill(sup[0], signal.SIGTERM, sup[1])
    kill(nsp[0], signal.SIGTERM, nsp[1])
    if not wait_gone([sup, nsp, lead], timeout):
        for pid, start in (sup, nsp, lead):
            kill(pid, signal.SIGKILL, start)
        wait_gone([sup, nsp, lead], 5)
    # Anything else still attached to the node (an exec, a process in its PID namespace).
    leftovers = node_processes(fleet, name, fleet.node(name) or node)
    for pid in leftovers:
        kill(pid, signal.SIGKILL)
    if leftovers:
        wait_gone([(p, None) for p in leftovers], 5)
    left = [p for p in node_processes(fleet, name, fleet.node(name) or node) if alive(p)]
    if node.get("disk") == "overlay" or (ndir / "merged").exists():
        unmount_all(ndir / "merged")
    if ndir.exists():
        fleet.update_node(name, state="stopped", leader_pid=None, leader_start=None,
                          nspawn_pid=None, nspawn_start=None, supervisor_pid=None,
                          supervisor_start=None)
    return left


def node_state(node):
    if not node:
        return "missing"
    running = alive(node.get("leader_pid"), node.get("leader_start"))
    sup = alive(node.get("supervisor_pid"), node.get("supervisor_start"))
    state = node.get("state")
    if state == "running" and running:
        return "running"
    if sup and state in ("starting", "booting", "rebooting"):
        return state
    return "stopped"


def teardown(fleet, names):
    """Stop every node, deregister it, remove its files. Returns a list of problems."""
    problems = []
    fleet_data = fleet.load() or {}
    nodes = {name: fleet.node(name) or {} for name in names}
    # Supervisors first, all of them (so that none starts its node again), then every
    # systemd-nspawn: the nodes shut down in parallel; stop_node() waits and KILLs leftovers.
    for name in names:
        n = nodes[name]
        if fleet.node_dir(name).exists():
            (fleet.node_dir(name) / "stop-requested").write_text(now_iso() + "\n")
        kill(n.get("supervisor_pid"), signal.SIGTERM, n.get("supervisor_start"))
    for name in names:
        kill(nodes[name].get("nspawn_pid"), signal.SIGTERM, nodes[name].get("nspawn_start"))
    for name in names:
        left = stop_node(fleet, name, timeout=20)
        if left:
            problems.append(f"{name}: processes still alive: {left}")
        if nodes[name].get("instance_id"):
            deregister(fleet_data, nodes[name])
    for name in names:
        ndir = fleet.node_dir(name)
        left = unmount_all(ndir)
        if left:
            problems.append(f"{name}: still mounted: {', '.join(left)}")
            continue
        subprocess.run(["rm", "-rf", "--one-file-system", str(ndir)], check=False)
    return problems


# ----------------------------------------------------------------- commands
def parse_tags(items):
    tags = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise FleetError(f"bad tag '{item}': expected KEY=VALUE")
        tags[k] = v
    return tags


def cmd_up(args):
    t0 = time.monotonic()
    require_root("up")
    if args.nodes < 1:
        raise FleetError("-n must be at least 1")
    check_tools("systemd-nspawn", "nsenter", "mount", "umount")
    if not rootfs_current():
        check_tools("debootstrap")
    extra_tags = parse_tags(args.tags)
    endpoint = args.endpoint or os.environ.get("FLEETOPS_ENDPOINT_URL")
    fleet = Fleet(args.state_dir)
    fleet.dir.mkdir(parents=True, exist_ok=True)
    with fleet.lock():
        existing = fleet.load()
        if existing and existing.get("nodes"):
            raise FleetError(f"a fleet is already up in {fleet.dir} ({len(existing['nodes'])} "
                             f"nodes): run '{PROG} down --state-dir {fleet.dir}' first")
        require_space(fleet.dir, args.nodes * env_mb("FLEETOPS_SANDBOX_NODE_MB", 100),
                      f"{args.nodes} nodes (~{env_mb('FLEETOPS_SANDBOX_NODE_MB', 100)} MB each)")
        build_seconds = ensure_rootfs()
        if not endpoint:
            log("notice: no --endpoint and no FLEETOPS_ENDPOINT_URL: nodes are not registered")
        stamp = read_json(stamp_file(), {})
        fleet_data = {
            "fleet_id": secrets.token_hex(8), "created": now_iso(), "endpoint": endpoint,
            "region": args.region, "rootfs": str(rootfs_dir()),
            "rootfs_build_id": stamp.get("build_id"), "nodes": [],
        }
        fleet.save(fleet_data)
        t_boot = time.monotonic()
        names = []
        try:
            for i in range(1, args.nodes + 1):
                node = create_node(fleet, fleet_data, i, extra_tags)
                names.append(node["name"])
                fleet_data["nodes"] = names
                fleet.save(fleet_data)
                spawn_supervisor(fleet, node["name"])
            errors = wait_running(fleet, names,
                                  float(os.environ.get("FLEETOPS_SANDBOX_BOOT_TIMEOUT", "90")) + 30)
        except BaseException:
            _abort_up(fleet, names)
            raise
        if errors:
            for name, err in errors.items():
                tail = _tail(fleet.node_dir(name) / "supervisor.log", 5)
                print(f"{PROG}: {name}: {err}\n{tail}", file=sys.stderr)
            _abort_up(fleet, names)
            raise FleetError(f"{len(errors)} of {len(names)} nodes did not come up "
                             f"({', '.join(sorted(errors))}); the fleet was torn down")
    print_table(fleet)
    for name in names:
        n = fleet.node(name)
        log(f"{name}: booted in {n.get('boot_seconds')}s, registration: "
            f"{n.get('registration', {}).get('result')}")
        warn_degraded(n)
        warn_registration(n)
    if build_seconds:
        log(f"timing: rootfs build {build_seconds:.1f}s")
    log(f"timing: {plural(len(names), 'node')} booted in {time.monotonic() - t_boot:.1f}s, "
        f"fleet up in {time.monotonic() - t0:.1f}s (state: {fleet.dir})")
    return 0


def _abort_up(fleet, names):
    problems = teardown(fleet, names)
    for p in problems:
        print(f"{PROG}: teardown: {p}", file=sys.stderr)
    if not problems and not mounts_under(fleet.dir):
        clear_state_dir(fleet)
    else:
        fleet.file.unlink(missing_ok=True)


def clear_state_dir(fleet):
    """Remove the state directory (only call it once nothing is mounted under it)."""
    subprocess.run(["rm", "-rf", "--one-file-system", str(fleet.dir)], check=False)


def warn_degraded(node):
    if node.get("system_state") == "degraded":
        warn(f"{node['name']} booted degraded; failed units: "
             f"{' '.join(node.get('failed_units') or []) or '?'} (details in "
             f"{Path(node.get('console_log', '')).with_name('supervisor.log')})")


def warn_registration(node):
    reg = node.get("registration") or {}
    if reg.get("result") in ("not-implemented", "error"):
        warn(f"{node['name']}: {reg.get('call')} answered {reg.get('status') or 'nothing'}"
             f"{' (' + reg['message'] + ')' if reg.get('message') else ''}; "
             + ("the endpoint does not implement the nodes API yet, continuing"
                if reg["result"] == "not-implemented" else "the node is not registered"))


def _tail(path, n):
    try:
        return "\n".join("    " + line for line in Path(path).read_text().splitlines()[-n:])
    except OSError:
        return ""


def cmd_down(args):
    t0 = time.monotonic()
    require_root("down")
    fleet = Fleet(args.state_dir)
    if not fleet.dir.exists():
        log(f"no fleet in {fleet.dir}: nothing to do")
        return 0
    with fleet.lock():
        names = fleet.node_names()
        problems = teardown(fleet, names)
        # Verify from scratch: no process of ours and no mount under the state directory.
        leftovers = [p for p in all_pids() if alive(p) and p != os.getpid()
                     and is_sandbox_process(cmdline(p), fleet.dir)]
        for pid in leftovers:
            kill(pid, signal.SIGKILL)
        if leftovers and not wait_gone([(p, None) for p in leftovers], 5):
            problems.append(f"processes still alive: {leftovers}")
        mounts = unmount_all(fleet.dir)
        if mounts:
            problems.append(f"still mounted: {', '.join(mounts)}")
        if not problems:
            clear_state_dir(fleet)
    if problems:
        for p in problems:
            print(f"{PROG}: down: {p}", file=sys.stderr)
        raise FleetError(f"teardown of {fleet.dir} is incomplete")
    log(f"fleet down: {plural(len(names), 'node')} removed in {time.monotonic() - t0:.1f}s; "
        f"verified: no process and no mount left under {fleet.dir}")
    return 0


def status_rows(fleet):
    rows = []
    for name in fleet.node_names():
        n = fleet.node(name) or {"name": name}
        state = node_state(n)
        rows.append({
            "instance_id": n.get("instance_id"), "name": name, "state": state,
            "platform": f"{n.get('platform_name', '?')} {n.get('platform_version', '')}".strip(),
            "platform_name": n.get("platform_name"), "platform_version": n.get("platform_version"),
            "ip_address": n.get("ip_address"),
            "leader_pid": n.get("leader_pid") if state == "running" else None,
            "nspawn_pid": n.get("nspawn_pid") if state != "stopped" else None,
            "supervisor_pid": n.get("supervisor_pid") if state != "stopped" else None,
            "root": n.get("root"), "disk": n.get("disk"), "tags": n.get("tags"),
            "boot_count": n.get("boot_count"), "registration": n.get("registration"),
        })
    return rows


def print_table(fleet):
    rows = status_rows(fleet)
    header = ("ID", "NAME", "STATE", "PLATFORM", "IP", "LEADER")
    table = [header] + [(r["instance_id"] or "-", r["name"], r["state"], r["platform"],
                         r["ip_address"] or "-", str(r["leader_pid"] or "-")) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        log("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def cmd_status(args):
    fleet = Fleet(args.state_dir)
    data = fleet.load()
    if args.json:
        print(json.dumps({"state_dir": str(fleet.dir), "fleet": data,
                          "nodes": status_rows(fleet) if data else []}, indent=2))
        return 0
    if not data:
        log(f"no fleet in {fleet.dir}")
        return 0
    print_table(fleet)
    return 0


def _existing_node(fleet, name):
    data = fleet.load()
    if not data or name not in data.get("nodes", []):
        known = ", ".join(data.get("nodes", [])) if data else "none"
        raise FleetError(f"no node '{name}' in {fleet.dir} (nodes: {known})")
    return data, fleet.node(name)


def cmd_stop(args):
    t0 = time.monotonic()
    require_root("stop")
    fleet = Fleet(args.state_dir)
    with fleet.lock():
        data, node = _existing_node(fleet, args.name)
        was = node_state(node)
        left = stop_node(fleet, args.name)
        node = fleet.node(args.name)
        registration = register(data, node, None)
        fleet.update_node(args.name, registration=registration)
    if left:
        raise FleetError(f"{args.name}: processes still alive after stop: {left}")
    log(f"{args.name}: stopped in {time.monotonic() - t0:.1f}s (was {was}); disk kept")
    return 0


def cmd_start(args):
    t0 = time.monotonic()
    require_root("start")
    check_tools("systemd-nspawn", "nsenter", "mount", "umount")
    fleet = Fleet(args.state_dir)
    with fleet.lock():
        data, node = _existing_node(fleet, args.name)
        if node_state(node) != "stopped":
            log(f"{args.name}: already {node_state(node)}")
            return 0
        if args.endpoint:
            data["endpoint"] = args.endpoint
            fleet.save(data)
        stamp = read_json(stamp_file(), {})
        if node.get("disk") == "overlay" and stamp.get("build_id") != data.get("rootfs_build_id"):
            raise FleetError(f"the base rootfs was rebuilt since this fleet was created, so "
                             f"{args.name}'s disk no longer matches it: run '{PROG} down' and "
                             f"'{PROG} up' again")
        stop_node(fleet, args.name, timeout=5)  # leftovers of a crashed run, if any
        mount_disk(fleet, node)
        spawn_supervisor(fleet, args.name)
        errors = wait_running(fleet, [args.name],
                              float(os.environ.get("FLEETOPS_SANDBOX_BOOT_TIMEOUT", "90")) + 30)
        if errors:
            stop_node(fleet, args.name, timeout=10)
            raise FleetError(f"{args.name} {errors[args.name]} (see "
                             f"{fleet.node_dir(args.name) / 'console.log'}); it was stopped again")
    n = fleet.node(args.name)
    log(f"{args.name}: running in {time.monotonic() - t0:.1f}s, leader pid {n['leader_pid']}, "
        f"registration: {n.get('registration', {}).get('result')}")
    warn_degraded(n)
    warn_registration(n)
    return 0


def cmd_exec(args):
    require_root("exec")
    if not args.command:
        raise FleetError(f"usage: {PROG} exec NAME -- CMD...")
    fleet = Fleet(args.state_dir)
    _data, node = _existing_node(fleet, args.name)
    if node_state(node) != "running":
        raise FleetError(f"{args.name} is {node_state(node)}, not running: "
                         f"'{PROG} start {args.name}' first")
    r = subprocess.run(nsenter_cmd(node["leader_pid"]) + args.command, env=node_env(), check=False)
    return r.returncode


def cmd_rootfs(args):
    require_root("rootfs")
    check_tools("debootstrap", "systemd-nspawn")
    t0 = time.monotonic()
    built = ensure_rootfs(rebuild=args.rebuild)
    stamp = read_json(stamp_file(), {})
    if built:
        log(f"timing: rootfs build {built:.1f}s")
    else:
        log(f"base rootfs is up to date ({time.monotonic() - t0:.1f}s to check): {rootfs_dir()}")
    log(f"recipe {stamp.get('recipe_version')}, built {stamp.get('built_at')} from "
        f"{stamp.get('mirror')} + {stamp.get('security_mirror')}")
    return 0


def cmd_supervise(args):
    supervise(args.state_dir, args.name)
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    command_args = []
    if "--" in argv:  # everything after "--" is the command for `fleet exec`
        i = argv.index("--")
        argv, command_args = argv[:i], argv[i + 1:]

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def with_state(p):
        p.add_argument("--state-dir", type=Path, default=default_state_dir(),
                       help="fleet state directory (default: %(default)s; env "
                            "FLEETOPS_SANDBOX_STATE)")
        return p

    p = with_state(sub.add_parser("up", help="bring up N nodes"))
    p.add_argument("-n", "--nodes", type=int, default=DEFAULT_NODES)
    p.add_argument("--endpoint", help="local SSM endpoint URL (default: $FLEETOPS_ENDPOINT_URL)")
    p.add_argument("--region", default=DEFAULT_REGION)
    p.add_argument("--tags", nargs="+", action="extend", metavar="KEY=VALUE", default=[])
    p.set_defaults(func=cmd_up)
    with_state(sub.add_parser("down", help="tear the fleet down")).set_defaults(func=cmd_down)
    for alias in ("status", "ls"):
        p = with_state(sub.add_parser(alias, help="show the nodes"))
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_status)
    p = with_state(sub.add_parser("stop", help="stop one node, keeping its disk"))
    p.add_argument("name")
    p.set_defaults(func=cmd_stop)
    p = with_state(sub.add_parser("start", help="start a stopped node"))
    p.add_argument("name")
    p.add_argument("--endpoint", help="register with this endpoint from now on")
    p.set_defaults(func=cmd_start)
    p = with_state(sub.add_parser("exec", help="run a command in a node: exec NAME -- CMD..."))
    p.add_argument("name")
    p.add_argument("command", nargs="*")
    p.set_defaults(func=cmd_exec)
    p = sub.add_parser("rootfs", help="build the cached base rootfs")
    p.add_argument("--rebuild", action="store_true")
    p.set_defaults(func=cmd_rootfs)
    p = with_state(sub.add_parser("_supervise"))  # internal: one node's supervisor
    p.add_argument("name")
    p.set_defaults(func=cmd_supervise)

    args = parser.parse_args(argv)
    if args.cmd == "exec":
        args.command = list(args.command) + command_args
    elif command_args:
        parser.error("'--' is only for 'exec NAME -- CMD...'")
    try:
        return args.func(args)
    except FleetError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
