"""Run Command: SendCommand, ListCommands, ListCommandInvocations, GetCommandInvocation, CancelCommand.

Commands really run on the managed nodes registered with ``POST /_fleetops/nodes``:
for every step of the document the "agent" (a thread of this endpoint) writes
the script to the node's orchestration directory and runs it as root with
``nsenter -t <leader> -a -- sh -c <script>``, the way amazon-ssm-agent runs
``aws:runShellScript``: working directory ``workingDirectory`` (else
``/usr/bin``, the agent's), the agent's environment plus ``SSM_COMMAND_ID`` and
``AWS_SSM_*``, the step's ``timeoutSeconds`` (``executionTimeout``; 5–172800,
3600 otherwise) killing the process group (exit code 137, ``TimedOut`` /
``ExecutionTimedOut``), stdout truncated at 24,000 and stderr at 8,000
characters with the agent's suffix, ``failed to run commands: exit status N``
appended to stderr on failure, and the 2,500-character ``Output`` of
``ListCommandInvocations``.

Only ``AWS-RunShellScript`` and the account's Command documents whose steps are
all ``aws:runShellScript`` run.  Any other document fails on the node
(``Failed``, with the reason in StandardErrorContent): nothing is faked.

Nodes registered with ``"executor": "instant"`` (scale tests and benchmarks) run
nothing: every step ends at once with the node's ``instant_exit_code`` (0 by
default) and the computer name as its output, so a thousand nodes need no
thousand processes.

Rate controls: ``MaxConcurrency`` invocations at once; once more than
``MaxErrors`` invocations failed or timed out, the ones not started yet end
``Cancelled`` / ``Terminated``.  An offline node's invocation waits for the node
until the command's ``TimeoutSeconds`` (capped by the control setting
``delivery_timeout_cap_seconds``) and ends ``TimedOut`` / ``DeliveryTimedOut``.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import math
import os
import posixpath
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import nodeexec
from .doclookup import ResolvedDocument, document_name, parameter_values, resolve_document, substitute
from .nodes import NODES, SETTINGS, Node, node_tags
from .registry import AwsError, Context, on_reset, operation, paginate, regional_store, validation_error

log = logging.getLogger("fleetops_endpoint.commands")

DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_MAX_CONCURRENCY = "50"
DEFAULT_MAX_ERRORS = "0"
LIST_DEFAULT_MAX_RESULTS = 50
# amazon-ssm-agent: pluginutil's execution timeout bounds, appconfig's output limits, iohandler's texts.
EXECUTION_TIMEOUT_DEFAULT, EXECUTION_TIMEOUT_MIN, EXECUTION_TIMEOUT_MAX = 3600, 5, 172800
MAX_STDOUT, MAX_STDERR, MAX_PLUGIN_OUTPUT = 24000, 8000, 2500
TRUNCATED_SUFFIX = "--output truncated--"
ERROR_TITLE = "\n----------ERROR-------\n"
TRUNCATED_OUT = "\n---Output truncated---"
TRUNCATED_ERR = "\n---Error truncated----"
STOPPED_PREEMPTIVELY = 137  # 128 + SIGKILL: timeouts and cancellations
SUPPORTED_ACTION = "aws:runShellScript"
RUNNABLE_AWS_DOCUMENTS = ("AWS-RunShellScript",)
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
COMMAND_STATUS_FILTER_VALUES = ("Pending", "InProgress", "Success", "Cancelled", "Failed", "TimedOut", "AccessDenied",
                                "DeliveryTimedOut", "ExecutionTimedOut", "Incomplete", "NoInstancesInTag",
                                "LimitExceeded")
INVOCATION_STATUS_FILTER_VALUES = ("Pending", "InProgress", "Delayed", "Success", "Cancelled", "Failed", "TimedOut",
                                   "AccessDenied", "DeliveryTimedOut", "ExecutionTimedOut", "Undeliverable",
                                   "InvalidPlatform", "Terminated")
SIGNAL_TEXT = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGINT: "interrupt",
               signal.SIGHUP: "hangup", signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "aborted",
               signal.SIGQUIT: "quit", signal.SIGPIPE: "broken pipe", signal.SIGBUS: "bus error"}

# Bumped by every reset: threads of an older generation stop touching their records.
_generation = 0
_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()


# --------------------------------------------------------------------------
# records


@dataclass
class Step:
    name: str  # the PluginName: the action for schema 1.2 documents, the step name for 2.x
    action: str
    parts: list[dict]  # input sets (schema 1.2 plugins may have several), parameters substituted
    orchestration: list[str]  # directory of each part below the command's orchestration directory
    skipped_reason: str | None = None


@dataclass
class PluginRun:
    name: str
    status: str = "Pending"
    details: str = "Pending"
    response_code: int = -1
    start: float | None = None
    end: float | None = None
    stdout: str = ""  # up to MAX_STDOUT + 1 characters (enough to know it was longer)
    stderr: str = ""

    def output(self) -> str:
        return truncate_output(self.stdout, self.stderr, MAX_PLUGIN_OUTPUT)


@dataclass
class Invocation:
    command_id: str
    instance_id: str
    instance_name: str
    plugins: list[PluginRun]
    status: str = "Pending"
    details: str = "Pending"
    delivered: bool = False
    cancel: bool = False
    proc: subprocess.Popen | None = None
    leader: tuple[int, int | None] | None = None

    def finish(self, status: str, details: str) -> None:
        self.status, self.details = status, details


@dataclass
class CommandRecord:
    command_id: str
    region: str
    request: dict
    document: ResolvedDocument
    document_name: str
    document_version: str
    steps: list[Step]
    unsupported: str | None
    requested: float
    expires_after: float
    timeout_seconds: int
    max_concurrency: str
    max_errors: str
    invocations: dict[str, Invocation]
    generation: int
    cancel_requested: bool = False
    changed: threading.Event = field(default_factory=threading.Event)

    # ---- aggregate state, as AWS reports it for the command

    def counts(self) -> dict[str, int]:
        invs = list(self.invocations.values())
        return {
            "target": len(invs),
            "completed": sum(1 for i in invs if i.status in TERMINAL),
            # ErrorCount: invocations that Failed or whose execution timed out (Undeliverable ones do not count).
            "errors": sum(1 for i in invs if (i.status == "Failed" and i.details != "Undeliverable")
                          or i.details == "ExecutionTimedOut"),
            "delivery_timed_out": sum(1 for i in invs if i.details == "DeliveryTimedOut"),
        }

    def allowed_errors(self) -> int:
        return limit(self.max_errors, len(self.invocations), minimum=0, round_up=False)

    def status(self) -> tuple[str, str]:
        invs = list(self.invocations.values())
        if not invs:
            return "Success", "NoInstancesInTag"
        open_ = [i for i in invs if i.status not in TERMINAL]
        if self.cancel_requested and open_:
            return "Cancelling", "Cancelling"
        if open_:
            if all(i.status == "Pending" for i in invs):
                return "Pending", "Pending"
            return "InProgress", "InProgress"
        if self.cancel_requested and any(i.details == "Cancelled" for i in invs):
            return "Cancelled", "Cancelled"
        counted = [i for i in invs if i.details != "Undeliverable"]
        if all(i.status == "Success" for i in counted):
            return "Success", "Success"
        allowed = self.allowed_errors()
        failed = sum(1 for i in invs if i.status == "Failed" and i.details != "Undeliverable")
        exec_timed_out = sum(1 for i in invs if i.details == "ExecutionTimedOut")
        if failed + exec_timed_out > allowed:
            return ("Failed", "Failed") if failed >= exec_timed_out else ("TimedOut", "ExecutionTimedOut")
        if sum(1 for i in invs if i.details == "DeliveryTimedOut") > allowed:
            return "TimedOut", "DeliveryTimedOut"
        return "Failed", "Incomplete"

    def describe(self) -> dict[str, Any]:
        req = self.request
        status, details = self.status()
        counts = self.counts()
        out: dict[str, Any] = {
            "CommandId": self.command_id,
            "DocumentName": self.document_name,
            "DocumentVersion": self.document_version,
            "Comment": req.get("Comment", ""),
            "ExpiresAfter": self.expires_after,
            "Parameters": dict(req.get("Parameters") or {}),
            "InstanceIds": list(req.get("InstanceIds") or []),
            "Targets": list(req.get("Targets") or []),
            "RequestedDateTime": self.requested,
            "Status": status,
            "StatusDetails": details,
            "OutputS3Region": req.get("OutputS3Region") or self.region,
            "OutputS3KeyPrefix": req.get("OutputS3KeyPrefix", ""),
            "MaxConcurrency": self.max_concurrency,
            "MaxErrors": self.max_errors,
            "TargetCount": counts["target"],
            "CompletedCount": counts["completed"],
            "ErrorCount": counts["errors"],
            "DeliveryTimedOutCount": counts["delivery_timed_out"],
            "ServiceRole": req.get("ServiceRoleArn", ""),
            "NotificationConfig": req.get("NotificationConfig") or {"NotificationArn": "", "NotificationEvents": []},
            "CloudWatchOutputConfig": req.get("CloudWatchOutputConfig") or {"CloudWatchOutputEnabled": False},
            "TimeoutSeconds": self.timeout_seconds,
        }
        if req.get("OutputS3BucketName"):
            out["OutputS3BucketName"] = req["OutputS3BucketName"]
        if req.get("AlarmConfiguration"):
            out["AlarmConfiguration"] = req["AlarmConfiguration"]
        return out


@regional_store("commands")
class CommandStore:
    def __init__(self, account_id: str, region: str) -> None:
        self.commands: dict[str, CommandRecord] = {}


# --------------------------------------------------------------------------
# helpers: limits, truncation, timeouts, times


def limit(spec: str, targets: int, *, minimum: int, round_up: bool) -> int:
    """MaxConcurrency / MaxErrors: a number, or a percentage of the targets."""
    if spec.endswith("%"):
        share = int(spec[:-1]) * targets / 100
        value = math.ceil(share) if round_up else math.floor(share)
    else:
        value = int(spec)
    return max(minimum, value)


def string_prefix(text: str, max_length: int, suffix: str) -> str:
    """The agent's StringPrefix: text shorter than the limit as is, else cut with the suffix appended."""
    if len(text) < max_length:
        return text
    return text[: max_length - len(suffix)] + suffix


def truncate_output(stdout: str, stderr: str, capacity: int) -> str:
    """The agent's plugin Output: stdout, the error title and stderr, within ``capacity`` characters."""
    title = ERROR_TITLE if stderr else ""
    available = capacity - len(title)
    out_len, err_len = len(stdout), len(stderr)
    if out_len + err_len < available:
        return stdout + title + stderr
    if out_len > available // 2 and err_len > available // 2:
        size = available - len(TRUNCATED_ERR) - len(TRUNCATED_OUT)
        return stdout[: size // 2] + TRUNCATED_OUT + title + stderr[: size // 2] + TRUNCATED_ERR
    if out_len <= available // 2:
        size = available - len(TRUNCATED_ERR)
        return stdout + title + stderr[: size - out_len] + TRUNCATED_ERR
    size = available - len(TRUNCATED_OUT)
    return stdout[: size - err_len] + TRUNCATED_OUT + title + stderr


def execution_timeout(value: Any) -> int:
    """The agent's ValidateExecutionTimeout: 5..172800 seconds, 3600 for anything else."""
    number: float | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    else:
        number = None
    if number is None:
        return EXECUTION_TIMEOUT_DEFAULT
    seconds = int(number)
    if seconds < EXECUTION_TIMEOUT_MIN or seconds > EXECUTION_TIMEOUT_MAX:
        return EXECUTION_TIMEOUT_DEFAULT
    return seconds


def iso(epoch: float | None) -> str:
    if epoch is None:
        return ""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def elapsed(start: float | None, end: float | None) -> str:
    if start is None:
        return ""
    return f"PT{max(0.0, (end if end is not None else time.time()) - start):.3f}S"


def _exit_text(returncode: int) -> str:
    if returncode >= 0:
        return f"exit status {returncode}"
    sig = -returncode
    try:
        name = SIGNAL_TEXT.get(signal.Signals(sig)) or f"signal {sig}"
    except ValueError:
        name = f"signal {sig}"
    return f"signal: {name}"


# --------------------------------------------------------------------------
# planning a document


def _flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_flatten(item))
        return out
    return []


def _precondition_skips(step: dict, platform: str) -> str | None:
    condition = step.get("precondition")
    if not isinstance(condition, dict):
        return None
    equals = condition.get("StringEquals")
    if isinstance(equals, list) and len(equals) == 2 and equals[0] == "platformType" and equals[1] != platform:
        return (f"Step execution skipped due to unsatisfied preconditions: '\"StringEquals\": "
                f"[platformType, {equals[1]}]'. Step name: {step.get('name')}")
    return None


def plan(doc: ResolvedDocument, params: dict[str, Any]) -> tuple[list[Step], str | None]:
    """The steps to run and, when the sandbox cannot run the document, why."""
    content = doc.content
    steps: list[Step] = []
    runtime = content.get("runtimeConfig")
    if isinstance(runtime, dict):  # schema 1.2: one plugin per action, each with one or more input sets
        for action, config in runtime.items():
            props = (config or {}).get("properties") if isinstance(config, dict) else None
            props_list = props if isinstance(props, list) else [props or {}]
            parts = [substitute(p, params) for p in props_list]
            dirs = []
            for index, part in enumerate(parts):
                part_id = str(part.get("id") or f"{index}.{action}") if isinstance(part, dict) else f"{index}.{action}"
                dirs.append(posixpath.join(action.replace(":", ""), part_id.replace(":", "")))
            steps.append(Step(action, action, [p if isinstance(p, dict) else {} for p in parts], dirs))
    for raw in content.get("mainSteps") or []:
        if not isinstance(raw, dict):
            continue
        name = str(raw.get("name") or raw.get("action"))
        step = Step(name, str(raw.get("action")), [substitute(raw.get("inputs") or {}, params)], [name])
        step.skipped_reason = _precondition_skips(raw, "Linux")
        steps.append(step)
    if doc.owner == "Amazon" and doc.name not in RUNNABLE_AWS_DOCUMENTS:
        return steps, (f"fleetops sandbox: document {doc.name} is not supported here (its steps are not run "
                       f"by the sandbox's stand-in agent); only AWS-RunShellScript and your own documents "
                       f"made of {SUPPORTED_ACTION} steps run.")
    for step in steps:
        if step.action != SUPPORTED_ACTION and step.skipped_reason is None:
            return steps, (f"fleetops sandbox: step {step.name} uses {step.action}, which the sandbox's "
                           f"stand-in agent does not run; only {SUPPORTED_ACTION} steps run.")
    if not steps:
        return steps, f"fleetops sandbox: document {doc.name} has no steps to run."
    return steps, None


# --------------------------------------------------------------------------
# the agent: running invocations


def _stale(cmd: CommandRecord) -> bool:
    return cmd.generation != _generation


def _delivery_cap() -> float | None:
    cap = SETTINGS.get("delivery_timeout_cap_seconds")
    return float(cap) if cap is not None else None


def _read_prefix(handle: Any, max_chars: int) -> str:
    handle.seek(0)
    data = handle.read(max_chars * 4 + 4)
    return data.decode("utf-8", errors="replace")[:max_chars]


def _track(proc: subprocess.Popen | None, add: bool) -> None:
    if proc is None:
        return
    with _running_lock:
        (_running.add if add else _running.discard)(proc)


def _kill(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _controller_env() -> dict[str, str]:
    """nsenter's own environment: a PATH, nothing else of the endpoint's."""
    return {"PATH": os.environ.get("PATH") or nodeexec.NODE_PATH}


def _node_env(cmd: CommandRecord, node: Node) -> dict[str, str]:
    return {
        "PATH": nodeexec.NODE_PATH,
        "SSM_COMMAND_ID": cmd.command_id,
        "AWS_SSM_INSTANCE_ID": node.instance_id,
        "AWS_SSM_REGION_NAME": node.region,
        "AWS_SSM_PLATFORM_NAME": node.platform_name,
        "AWS_SSM_PLATFORM_VERSION": node.platform_version,
    }


# Writes the script (stdin) to the orchestration directory, then prints the working
# directory to use: the absolute one if it exists ("!" + it when it does not), a relative
# one below the command's downloads directory if that exists, else the agent's.
_PREPARE = r'''
set -e
umask 022
mkdir -p "$1"
cat > "$1/_script.sh"
chmod 0755 "$1/_script.sh"
case "$2" in
  "") printf '%s' "$4" ;;
  /*) if [ -d "$2" ]; then printf '%s' "$2"; else printf '!%s' "$2"; fi ;;
  *) if [ -d "$3/$2" ]; then printf '%s' "$3/$2"; else printf '%s' "$4"; fi ;;
esac
'''


def _run_part(cmd: CommandRecord, inv: Invocation, node: Node, leader: int, part: dict, directory: str,
              lock: Any) -> tuple[int, str, str, bool]:
    """Runs one input set of aws:runShellScript: (exit code, stdout, stderr, timed out)."""
    if node.executor == "instant":  # scale tests: nothing runs, the step ends at once
        code = node.instant_exit_code
        return code, f"{node.computer_name}\n", f"failed to run commands: exit status {code}" if code else "", False
    commands = _flatten(part.get("runCommand", []))
    script = "\n".join(commands) + "\n"
    timeout = execution_timeout(part.get("timeoutSeconds"))
    command_dir = posixpath.join(node.agent_state_dir, node.instance_id, "document", "orchestration",
                                 cmd.command_id)
    orchestration = posixpath.join(command_dir, directory)
    working = str(part.get("workingDirectory") or "")
    prepare = subprocess.run(
        nodeexec.nsenter_argv(leader) + ["sh", "-c", _PREPARE, "sh", orchestration, working,
                                         posixpath.join(command_dir, "downloads"), nodeexec.AGENT_WORKING_DIRECTORY],
        input=script.encode(), capture_output=True, timeout=60, check=False, env=_controller_env(),
    )
    if prepare.returncode != 0:
        text = prepare.stderr.decode(errors="replace").strip()
        return 1, "", f"failed to create script file. {text}", False
    resolved = prepare.stdout.decode(errors="replace")
    if resolved.startswith("!"):
        return 1, "", f"failed to run commands: chdir {resolved[1:]}: no such file or directory", False
    argv = (nodeexec.nsenter_argv(leader) + nodeexec.clean_env_argv(_node_env(cmd, node), resolved)
            + ["sh", "-c", posixpath.join(orchestration, "_script.sh")])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with lock:
            if inv.cancel or _stale(cmd):
                return STOPPED_PREEMPTIVELY, "", "", False
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
                                    close_fds=True, env=_controller_env())
            inv.proc = proc
        _track(proc, True)
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
            proc.wait()
        finally:
            _track(proc, False)
        code = proc.returncode
        stdout = _read_prefix(out, MAX_STDOUT + 1)
        stderr = _read_prefix(err, MAX_STDERR + 1)
    if timed_out or inv.cancel:
        return STOPPED_PREEMPTIVELY, stdout, stderr, timed_out
    if code != 0:
        stderr += f"failed to run commands: {_exit_text(code)}"
        code = -1 if code < 0 else code
    return code, stdout, stderr, False


def _finish_plugin(plugin: PluginRun, status: str, details: str, code: int, stdout: str, stderr: str) -> None:
    plugin.status, plugin.details, plugin.response_code = status, details, code
    plugin.stdout, plugin.stderr = stdout, stderr
    plugin.end = round(time.time(), 3)


def _wait_for_delivery(cmd: CommandRecord, inv: Invocation, lock: Any) -> Node | None:
    """The node once it is online, or None when the invocation ended before delivery."""
    while True:
        if _stale(cmd):
            return None
        cap = _delivery_cap()
        deadline = cmd.requested + (min(cmd.timeout_seconds, cap) if cap is not None else cmd.timeout_seconds)
        with lock:
            if inv.cancel:
                _end_undelivered(inv, "Cancelled", "Cancelled")
                return None
            node = NODES.get(inv.instance_id, cmd.region)
            if node is None:
                _end_undelivered(inv, "Failed", "Undeliverable")
                return None
            if node.online():
                inv.delivered = True
                inv.finish("InProgress", "InProgress")
                inv.leader = (node.leader_pid, node.leader_start)  # type: ignore[assignment]
                return node
            if time.time() >= deadline:
                _end_undelivered(inv, "TimedOut", "DeliveryTimedOut")
                return None
        cmd.changed.wait(0.2)


def _end_undelivered(inv: Invocation, status: str, details: str) -> None:
    inv.finish(status, details)
    for plugin in inv.plugins:
        plugin.status, plugin.details = status, details


def _node_lost(inv: Invocation) -> bool:
    leader = inv.leader
    return leader is None or not nodeexec.process_alive(leader[0], leader[1])


def _run_invocation(cmd: CommandRecord, inv: Invocation, lock: Any) -> None:
    try:
        node = _wait_for_delivery(cmd, inv, lock)
        if node is None:
            return
        leader = node.leader_pid
        assert leader is not None
        if cmd.unsupported:
            with lock:
                now = round(time.time(), 3)
                for plugin in inv.plugins:
                    plugin.start = now
                    _finish_plugin(plugin, "Failed", "Failed", 1, "", cmd.unsupported)
                inv.finish("Failed", "Failed")
            return
        for step, plugin in zip(cmd.steps, inv.plugins):
            with lock:
                if _stale(cmd):
                    return
                plugin.start = round(time.time(), 3)
                if inv.cancel:
                    _finish_plugin(plugin, "Cancelled", "Cancelled", STOPPED_PREEMPTIVELY, "", "")
                    continue
                if step.skipped_reason:
                    _finish_plugin(plugin, "Success", "Success", 0, step.skipped_reason, "")
                    continue
                plugin.status = plugin.details = "InProgress"
            code, stdout, stderr, timed_out = 0, "", "", False
            for part, directory in zip(step.parts, step.orchestration):
                c, o, e, t = _run_part(cmd, inv, node, leader, part, directory, lock)
                code, stdout, stderr, timed_out = c, stdout + o, stderr + e, t
                if c != 0 or inv.cancel:
                    break
            if _node_lost(inv) and not inv.cancel:
                _hold_until_expiry(cmd, inv, lock)
                return
            with lock:
                if _stale(cmd):
                    return
                if inv.cancel:
                    _finish_plugin(plugin, "Cancelled", "Cancelled", STOPPED_PREEMPTIVELY, stdout, stderr)
                elif timed_out:
                    _finish_plugin(plugin, "TimedOut", "ExecutionTimedOut", STOPPED_PREEMPTIVELY, stdout, stderr)
                elif code == 0:
                    _finish_plugin(plugin, "Success", "Success", 0, stdout, stderr)
                else:
                    _finish_plugin(plugin, "Failed", "Failed", code, stdout, stderr)
        with lock:
            statuses = [(p.status, p.details) for p in inv.plugins]
            if any(s == "Cancelled" for s, dummy in statuses):
                inv.finish("Cancelled", "Cancelled")
            elif any(s == "Failed" for s, dummy in statuses):
                inv.finish("Failed", "Failed")
            elif any(s == "TimedOut" for s, dummy in statuses):
                inv.finish("TimedOut", "ExecutionTimedOut")
            else:
                inv.finish("Success", "Success")
    except Exception:  # a bug here must not leave the invocation InProgress forever
        log.error("invocation %s/%s failed", cmd.command_id, inv.instance_id, exc_info=True)
        with lock:
            if inv.status not in TERMINAL:
                inv.finish("Failed", "Failed")
    finally:
        inv.proc = None
        cmd.changed.set()


def _hold_until_expiry(cmd: CommandRecord, inv: Invocation, lock: Any) -> None:
    """The node went down while running: the agent never reports, the command expires (DeliveryTimedOut)."""
    lost_at = time.time()
    while not _stale(cmd):
        cap = _delivery_cap()
        deadline = cmd.expires_after if cap is None else min(cmd.expires_after, lost_at + cap)
        with lock:
            if inv.cancel:
                _end_undelivered(inv, "Cancelled", "Cancelled")
                return
            if time.time() >= deadline:
                _end_undelivered(inv, "TimedOut", "DeliveryTimedOut")
                return
        cmd.changed.wait(0.2)


def _schedule(cmd: CommandRecord, lock: Any) -> None:
    """The command's scheduler: MaxConcurrency invocations at a time, stop after MaxErrors."""
    waiting = list(cmd.invocations.values())
    running: list[threading.Thread] = []
    concurrency = limit(cmd.max_concurrency, len(waiting), minimum=1, round_up=True)
    while waiting or running:
        if _stale(cmd):
            return
        cmd.changed.clear()
        with lock:
            running = [t for t in running if t.is_alive()]
            if cmd.cancel_requested:
                for inv in waiting:
                    _end_undelivered(inv, "Cancelled", "Cancelled")
                waiting = []
            elif cmd.counts()["errors"] > cmd.allowed_errors():
                for inv in waiting:
                    _end_undelivered(inv, "Cancelled", "Terminated")
                waiting = []
            while waiting and len(running) < concurrency:
                inv = waiting.pop(0)
                if inv.status in TERMINAL:  # Undeliverable from the start
                    continue
                thread = threading.Thread(target=_run_invocation, args=(cmd, inv, lock),
                                          name=f"invocation-{cmd.command_id[:8]}-{inv.instance_id}", daemon=True)
                thread.start()
                running.append(thread)
        if waiting or running:
            cmd.changed.wait(0.25)


@on_reset
def _stop_everything() -> None:
    global _generation
    _generation += 1
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        _kill(proc)


atexit.register(_stop_everything)  # no script outlives the endpoint


# --------------------------------------------------------------------------
# SendCommand


def _resolve_targets(ctx: Context, targets: list[dict]) -> list[str]:
    nodes = NODES.list(ctx.region)
    selected: list[str] | None = None
    for target in targets:
        key, values = target.get("Key", ""), list(target.get("Values") or [])
        if key == "InstanceIds":
            known = {n.instance_id for n in nodes}
            found = [v for v in values if v in known] + [v for v in values if v not in known]
        elif key == "tag-key":
            found = [n.instance_id for n in nodes if any(v in node_tags(n) for v in values)]
        elif key.startswith("tag:") and len(key) > 4:
            tag_key = key[4:]
            found = []
            for n in nodes:
                tags = node_tags(n)
                if tag_key in tags and tags[tag_key] in values:
                    found.append(n.instance_id)
        elif key in ("resource-groups:Name", "resource-groups:ResourceTypeFilters"):
            found = _resource_group_targets(ctx, key, values, nodes)
        else:
            raise validation_error(f"Target key {key} is not valid: use InstanceIds, tag:<key>, tag-key, "
                                   "resource-groups:Name or resource-groups:ResourceTypeFilters.")
        selected = found if selected is None else [i for i in selected if i in found]
    return list(dict.fromkeys(selected or []))


def _resource_group_targets(ctx: Context, key: str, values: list[str], nodes: list[Node]) -> list[str]:
    """Nodes of a tag-based resource group in moto's Resource Groups (other groups select nothing)."""
    import json

    if key == "resource-groups:ResourceTypeFilters":
        kinds = {"AWS::EC2::Instance": "EC2Instance", "AWS::SSM::ManagedInstance": "ManagedInstance"}
        wanted = {kinds.get(v) for v in values}
        return [n.instance_id for n in nodes if n.resource_type in wanted]
    found: list[str] = []
    try:
        from moto.resourcegroups.models import resourcegroups_backends

        backend = resourcegroups_backends[ctx.account_id][ctx.region]
        for name in values:
            group = backend.groups.by_name.get(name)
            query = getattr(group, "resource_query", None) or {}
            if not group or query.get("Type") != "TAG_FILTERS_1_0":
                continue
            spec = json.loads(query.get("Query") or "{}")
            types = set(spec.get("ResourceTypeFilters") or ["AWS::AllSupported"])
            for node in nodes:
                kind = "AWS::SSM::ManagedInstance" if node.resource_type == "ManagedInstance" else "AWS::EC2::Instance"
                if not types & {kind, "AWS::AllSupported"}:
                    continue
                tags = node_tags(node)
                if all(f["Key"] in tags and (not f.get("Values") or tags[f["Key"]] in f["Values"])
                       for f in spec.get("TagFilters") or []):
                    found.append(node.instance_id)
    except Exception:  # pragma: no cover - moto internals moved
        return []
    return found


@operation("SendCommand")
def send_command(request: dict, ctx: Context) -> dict:
    instance_ids = list(request.get("InstanceIds") or [])
    targets = list(request.get("Targets") or [])
    if instance_ids and targets:
        raise validation_error("InstanceIds and Targets can't be used in the same request.")
    if not instance_ids and not targets:
        raise validation_error("Either InstanceIds or Targets must be specified.")
    name = document_name(request["DocumentName"])
    # AWS-owned documents' ARNs have no account: arn:aws:ssm:us-east-1::document/AWS-RunShellScript
    ctx.authorize("ssm:SendCommand", ctx.arn(f"document/{name}", account=not name.startswith("AWS-")),
                  [name, *instance_ids])
    doc = resolve_document(ctx, request["DocumentName"], request.get("DocumentVersion"))
    if doc is None:
        raise AwsError("InvalidDocument", "The specified document does not exist.")
    if doc.document_type != "Command":
        raise AwsError("InvalidDocument", f"Document {doc.name} is of type {doc.document_type}; SendCommand "
                                          "runs Command documents.")
    params = parameter_values(doc, request.get("Parameters"))
    if len(set(instance_ids)) != len(instance_ids):
        raise AwsError("DuplicateInstanceId", None)
    if instance_ids:
        unknown = [i for i in instance_ids if NODES.get(i, ctx.region) is None]
        if unknown:
            raise AwsError("InvalidInstanceId", f"Instances [[{', '.join(unknown)}]] not in a valid state for "
                                                f"account {ctx.account_id}")
        wrong = [i for i in instance_ids if NODES.get(i, ctx.region).platform_type not in doc.platform_types]
        if wrong:
            raise AwsError("UnsupportedPlatformType", f"The document {doc.name} does not support the platform "
                                                      f"type of {', '.join(wrong)}.")
        chosen = instance_ids
    else:
        chosen = _resolve_targets(ctx, targets)
    steps, unsupported = plan(doc, params)
    timeout_seconds = int(request.get("TimeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
    total_execution = sum(execution_timeout(p.get("timeoutSeconds")) for s in steps for p in s.parts) or \
        EXECUTION_TIMEOUT_DEFAULT
    command_id = str(uuid.uuid4())
    requested = ctx.now()
    invocations: dict[str, Invocation] = {}
    for iid in chosen:
        node = NODES.get(iid, ctx.region)
        inv = Invocation(command_id, iid, (node.name if node else "")[:255],
                         [PluginRun(step.name) for step in steps] or [PluginRun(doc.name)])
        if node is None:
            _end_undelivered(inv, "Failed", "Undeliverable")
        elif node.platform_type not in doc.platform_types:
            _end_undelivered(inv, "Failed", "InvalidPlatform")
        invocations[iid] = inv
    cmd = CommandRecord(
        command_id=command_id, region=ctx.region, request=request, document=doc, document_name=doc.name,
        document_version=request.get("DocumentVersion") or "$DEFAULT", steps=steps, unsupported=unsupported,
        requested=requested, expires_after=round(requested + timeout_seconds + total_execution, 3),
        timeout_seconds=timeout_seconds, max_concurrency=request.get("MaxConcurrency") or DEFAULT_MAX_CONCURRENCY,
        max_errors=request.get("MaxErrors") or DEFAULT_MAX_ERRORS, invocations=invocations, generation=_generation,
    )
    ctx.store("commands").commands[command_id] = cmd
    if invocations:
        threading.Thread(target=_schedule, args=(cmd, ctx.ssm.lock), name=f"command-{command_id[:8]}",
                         daemon=True).start()
    return {"Command": cmd.describe()}


# --------------------------------------------------------------------------
# listing


def _filter_time(value: str) -> float:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise validation_error(f"Invalid filter value {value}: expected a timestamp such as 2024-07-07T00:00:00Z.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _check_filters(filters: list[dict], for_invocations: bool) -> list[tuple[str, str]]:
    out = []
    allowed = INVOCATION_STATUS_FILTER_VALUES if for_invocations else COMMAND_STATUS_FILTER_VALUES
    for item in filters:
        key, value = item["key"], item["value"]
        if key == "ExecutionStage" and for_invocations:
            raise AwsError("InvalidFilterKey", None)
        if key in ("InvokedAfter", "InvokedBefore"):
            _filter_time(value)
        elif key == "Status" and value not in allowed:
            raise validation_error(f"Status filter value {value} is not valid; valid values: {', '.join(allowed)}.")
        elif key == "ExecutionStage" and value not in ("Executing", "Complete"):
            raise validation_error(f"ExecutionStage filter value {value} is not valid; valid values: Executing, "
                                   "Complete.")
        out.append((key, value))
    return out


def _status_matches(status: str, details: str, value: str) -> bool:
    if value == "TimedOut":
        return status == "TimedOut" or details in ("DeliveryTimedOut", "ExecutionTimedOut")
    return value in (status, details)


def _command_matches(cmd: CommandRecord, key: str, value: str) -> bool:
    if key == "InvokedAfter":
        return cmd.requested >= _filter_time(value)
    if key == "InvokedBefore":
        return cmd.requested <= _filter_time(value)
    if key == "DocumentName":
        return cmd.document_name == value
    status, details = cmd.status()
    if key == "Status":
        return _status_matches(status, details, value)
    if key == "ExecutionStage":
        done = status in TERMINAL
        return done if value == "Complete" else not done
    return True


def _commands(ctx: Context) -> list[CommandRecord]:
    return sorted(ctx.store("commands").commands.values(), key=lambda c: c.requested, reverse=True)


def _command(ctx: Context, command_id: str) -> CommandRecord:
    cmd = ctx.store("commands").commands.get(command_id)
    if cmd is None:
        raise AwsError("InvalidCommandId", None)
    return cmd


@operation("ListCommands")
def list_commands(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:ListCommands", ctx.arn("*"))
    filters = _check_filters(request.get("Filters") or [], for_invocations=False)
    if request.get("CommandId"):
        found = [_command(ctx, request["CommandId"])]
    else:
        found = _commands(ctx)
    if request.get("InstanceId"):
        found = [c for c in found if request["InstanceId"] in c.invocations]
    found = [c for c in found if all(_command_matches(c, k, v) for k, v in filters)]
    page, token = paginate([c.describe() for c in found], int(request.get("MaxResults") or LIST_DEFAULT_MAX_RESULTS),
                           request.get("NextToken"), {"op": "ListCommands", "id": request.get("CommandId"),
                                                      "instance": request.get("InstanceId"), "filters": filters})
    out: dict[str, Any] = {"Commands": page}
    if token:
        out["NextToken"] = token
    return out


def _plugin_view(cmd: CommandRecord, plugin: PluginRun) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": plugin.name,
        "Status": plugin.status,
        "StatusDetails": plugin.details,
        "ResponseCode": plugin.response_code,
        "Output": plugin.output(),
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "OutputS3Region": cmd.request.get("OutputS3Region") or cmd.region,
        "OutputS3KeyPrefix": cmd.request.get("OutputS3KeyPrefix", ""),
    }
    if cmd.request.get("OutputS3BucketName"):
        out["OutputS3BucketName"] = cmd.request["OutputS3BucketName"]
    if plugin.start is not None:
        out["ResponseStartDateTime"] = plugin.start
    if plugin.end is not None:
        out["ResponseFinishDateTime"] = plugin.end
    return out


def _invocation_view(cmd: CommandRecord, inv: Invocation, details: bool) -> dict[str, Any]:
    req = cmd.request
    return {
        "CommandId": cmd.command_id,
        "InstanceId": inv.instance_id,
        "InstanceName": inv.instance_name,
        "Comment": req.get("Comment", ""),
        "DocumentName": cmd.document_name,
        "DocumentVersion": cmd.document_version,
        "RequestedDateTime": cmd.requested,
        "Status": inv.status,
        "StatusDetails": inv.details,
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": [_plugin_view(cmd, p) for p in inv.plugins] if details and inv.delivered else [],
        "ServiceRole": req.get("ServiceRoleArn", ""),
        "NotificationConfig": req.get("NotificationConfig") or {"NotificationArn": "", "NotificationEvents": []},
        "CloudWatchOutputConfig": req.get("CloudWatchOutputConfig") or {"CloudWatchOutputEnabled": False},
    }


def _invocation_matches(cmd: CommandRecord, inv: Invocation, key: str, value: str) -> bool:
    if key == "Status":
        return _status_matches(inv.status, inv.details, value)
    return _command_matches(cmd, key, value)


@operation("ListCommandInvocations")
def list_command_invocations(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:ListCommandInvocations", ctx.arn("*"))
    filters = _check_filters(request.get("Filters") or [], for_invocations=True)
    commands = [_command(ctx, request["CommandId"])] if request.get("CommandId") else _commands(ctx)
    rows = []
    for cmd in commands:
        for inv in cmd.invocations.values():
            if request.get("InstanceId") and inv.instance_id != request["InstanceId"]:
                continue
            if all(_invocation_matches(cmd, inv, k, v) for k, v in filters):
                rows.append(_invocation_view(cmd, inv, bool(request.get("Details"))))
    page, token = paginate(rows, int(request.get("MaxResults") or LIST_DEFAULT_MAX_RESULTS), request.get("NextToken"),
                           {"op": "ListCommandInvocations", "id": request.get("CommandId"),
                            "instance": request.get("InstanceId"), "filters": filters,
                            "details": bool(request.get("Details"))})
    out: dict[str, Any] = {"CommandInvocations": page}
    if token:
        out["NextToken"] = token
    return out


@operation("GetCommandInvocation")
def get_command_invocation(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:GetCommandInvocation", ctx.arn("*"))
    cmd = _command(ctx, request["CommandId"])
    inv = cmd.invocations.get(request["InstanceId"])
    if inv is None:
        raise AwsError("InvocationDoesNotExist", None)
    wanted = request.get("PluginName")
    if wanted:
        plugin = next((p for p in inv.plugins if p.name == wanted), None)
        if plugin is None:
            raise AwsError("InvalidPluginName", None)
    elif len(inv.plugins) == 1:
        plugin = inv.plugins[0]
    else:
        raise AwsError("InvalidPluginName", None)
    if inv.delivered:
        status, details, code = plugin.status, plugin.details, plugin.response_code
    else:
        status, details, code = inv.status, inv.details, -1
    return {
        "CommandId": cmd.command_id,
        "InstanceId": inv.instance_id,
        "Comment": cmd.request.get("Comment", ""),
        "DocumentName": cmd.document_name,
        "DocumentVersion": cmd.document_version,
        "PluginName": plugin.name,
        "ResponseCode": code,
        "ExecutionStartDateTime": iso(plugin.start),
        "ExecutionElapsedTime": elapsed(plugin.start, plugin.end),
        "ExecutionEndDateTime": iso(plugin.end),
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": string_prefix(plugin.stdout, MAX_STDOUT, TRUNCATED_SUFFIX),
        "StandardOutputUrl": "",
        "StandardErrorContent": string_prefix(plugin.stderr, MAX_STDERR, TRUNCATED_SUFFIX),
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": cmd.request.get("CloudWatchOutputConfig") or {"CloudWatchOutputEnabled": False},
    }


@operation("CancelCommand")
def cancel_command(request: dict, ctx: Context) -> dict:
    cmd = _command(ctx, request["CommandId"])
    ctx.authorize("ssm:CancelCommand", ctx.arn("*"))
    ids = list(request.get("InstanceIds") or [])
    if len(set(ids)) != len(ids):
        raise AwsError("DuplicateInstanceId", None)
    unknown = [i for i in ids if i not in cmd.invocations]
    if unknown:
        raise AwsError("InvalidInstanceId", f"Instances [[{', '.join(unknown)}]] are not targets of command "
                                            f"{cmd.command_id}")
    chosen = [cmd.invocations[i] for i in ids] if ids else list(cmd.invocations.values())
    if not ids:
        cmd.cancel_requested = True
    for inv in chosen:
        if inv.status in TERMINAL:
            continue
        inv.cancel = True
        _kill(inv.proc)
    cmd.changed.set()
    return {}
