"""Running things inside a managed node, from the controller (standard library only).

A managed node is a set of Linux namespaces whose "leader" process is known to
the endpoint: a sandbox node's PID 1 (systemd under systemd-nspawn), or for
fast tests any process of the host ("fake node", the host's own namespaces).
``nsenter -t <leader> -a`` enters all of them, so a command runs there as it
would under the SSM agent of that node.

This module is imported by the session-manager-plugin stand-in too, which runs
with any ``python3``: keep it free of third-party imports.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import struct

# What the agent's processes get from systemd on a Debian node (the agent adds to it).
NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The agent's systemd unit sets WorkingDirectory=/usr/bin/: sessions and Run Command
# scripts without a working directory start there.
AGENT_WORKING_DIRECTORY = "/usr/bin"
DEFAULT_SESSION_USER = "ssm-user"
DEFAULT_AGENT_STATE_DIR = "/var/lib/amazon/ssm"


def nsenter_path() -> str:
    return shutil.which("nsenter") or "/usr/bin/nsenter"


def process_start_time(pid: int) -> int | None:
    """The start time (clock ticks since boot) of ``pid``, None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def process_alive(pid: int | None, start_time: int | None = None) -> bool:
    """True when ``pid`` runs (not a zombie) and, if given, started at ``start_time``."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    if fields[0] in ("Z", "X"):
        return False
    if start_time is not None:
        try:
            return int(fields[19]) == start_time
        except (IndexError, ValueError):
            return False
    return True


def resume_if_stopped(pid: int) -> None:
    """Send SIGCONT to ``pid`` when it is stopped.

    When a node shuts down, systemd stops and resumes the processes inside it. ``nsenter``
    (outside the node) mirrors its child's stop on itself, and nothing inside the node can
    resume it, so the node's shutdown would wait for the session's shell forever.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return
    if state in ("T", "t"):
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass


def nsenter_argv(leader_pid: int) -> list[str]:
    """``nsenter`` into every namespace of the node, its root directory included."""
    return [nsenter_path(), "-t", str(leader_pid), "-a", "--"]


def clean_env_argv(env: dict[str, str], working_directory: str | None = None) -> list[str]:
    """``env -i [-C DIR] K=V ...``: the command sees exactly ``env``, nothing of the controller's environment.

    The directory change happens inside the node (nsenter's own ``--wd`` would resolve the
    path on the controller, outside the node's root).
    """
    argv = ["env", "-i"]
    if working_directory:
        argv += ["-C", working_directory]
    return argv + [f"{k}={v}" for k, v in env.items()]


def as_user_argv(uid: int, gid: int) -> list[str]:
    """Switch to ``uid``/``gid`` with the user's supplementary groups, as the agent's RunAs does."""
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--"]


# Linux ioctls (asm-generic): unlock the pty's other end, and open it from the master.
TIOCSPTLCK = 0x40045431
TIOCGPTPEER = 0x5441


def open_pty(leader_pid: int | None) -> tuple[int, int]:
    """A pseudo-terminal in the node's own /dev/pts, so ``tty`` inside shows /dev/pts/N there.

    Opened from the controller through ``/proc/<leader>/root/dev/ptmx``; falls back to one of
    the controller's when the node has no ptmx of its own to offer.
    """
    if leader_pid:
        try:
            master = os.open(f"/proc/{leader_pid}/root/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
        except OSError:
            master = -1
        if master >= 0:
            try:
                fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
                slave = fcntl.ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY)
                return master, slave
            except OSError:
                os.close(master)
    return os.openpty()


def child_pids(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                found.extend(int(p) for p in fh.read().split())
    except OSError:
        pass
    return found


def kill_session(session_id: int, sig: int = signal.SIGKILL) -> None:
    """Signal every process of a session (ids as this process sees them); never our own session."""
    if session_id <= 1 or session_id == os.getsid(0):
        return
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == session_id:
                os.kill(int(entry), sig)
        except (OSError, IndexError, ValueError):
            continue


def kill_node_processes(nsenter_pid: int) -> None:
    """Kill what an ``nsenter`` started in a node: the sessions of its children, then its own group."""
    for child in child_pids(nsenter_pid):
        try:
            kill_session(os.getsid(child))
        except OSError:
            pass
    try:
        os.killpg(nsenter_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
