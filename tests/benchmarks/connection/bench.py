"""Helpers of the connection benchmark (run.sh).

  bench.py inventory < fleet-ls.json              the nodes as an INI inventory group
  bench.py record RESULTS NAME HOSTS ROUND START END STATUS LOG CALLS [CPU]
                                                  append one run to RESULTS (JSON lines); CPU: the
                                                  run's CPU seconds when they could be measured
  bench.py report RESULTS                         print the figures side by side
"""

import json
import re
import statistics
import sys

TASKS = 20
PLUGINS = (
    ("session", "fleetops.ssm.session"),
    ("aws_ssm", "amazon.aws.aws_ssm"),
    ("nsenter", "community.docker.nsenter"),
)
HOSTS = (1, 3)
SESSION_VS_NSENTER_MAX = 1.3
AWS_SSM_VS_SESSION_MIN = 3.0
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)")
PROFILE = re.compile(r"^(?P<task>[A-Z][\w ]*?) -+ (?P<seconds>\d+\.\d+)s$")
KINDS = (("command", ("Read ",)), ("copy", ("Copy ",)), ("stat", ("Stat ",)), ("template", ("Render ",)),
         ("fetch", ("Fetch ",)))
ERROR = re.compile(r"^(fatal: .*|ERROR!.*|\[ERROR\].*|.*UNREACHABLE!.*)$")


def inventory():
    print("[nodes]")
    for node in json.load(sys.stdin)["nodes"]:
        print(f"{node['name']} ansible_host={node['instance_id']} ansible_nsenter_pid={node['leader_pid']}")
    print("[nodes:vars]")
    print("ansible_python_interpreter=/usr/bin/python3")


def failure_reason(status, lines):
    recaps = [RECAP.match(line) for line in lines]
    recaps = [m for m in recaps if m]
    bad = [m for m in recaps if int(m.group(3)) or int(m.group(4)) or int(m.group(2)) != TASKS]
    if status == 0 and recaps and not bad:
        return None
    errors = [line.strip() for line in lines if ERROR.match(line.strip())]
    if errors:
        return errors[0][:300]
    if bad:
        return f"{bad[0].group(1)}: ok={bad[0].group(2)} unreachable={bad[0].group(3)} failed={bad[0].group(4)}"
    return f"ansible-playbook exited with status {status}"


def task_seconds(lines):
    """Seconds per task kind, from the profile_tasks callback's summary (averages over the kind's tasks)."""
    found = {}
    for line in lines:
        match = PROFILE.match(line.strip())
        if match:
            for kind, prefixes in KINDS:
                if match.group("task").startswith(prefixes):
                    found.setdefault(kind, []).append(float(match.group("seconds")))
    return {kind: statistics.mean(values) for kind, values in found.items()}


def record(path, name, hosts, round_, start, end, status, log, calls, cpu=""):
    with open(log, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    run = {
        "name": name, "hosts": int(hosts), "round": int(round_), "seconds": float(end) - float(start),
        "status": int(status), "error": failure_reason(int(status), lines), "calls": json.loads(calls),
        "tasks": task_seconds(lines), "cpu": float(cpu) if cpu else None,
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(run) + "\n")
    outcome = f"{run['seconds']:.1f} s" if run["error"] is None else f"FAILED: {run['error']}"
    if run["cpu"] is not None:
        outcome += f" ({run['cpu']:.1f} s CPU)"
    starts = run["calls"].get("ssm:StartSession", 0)
    print(f"--- round {run['round']}, {run['hosts']} host(s), {dict(PLUGINS)[name]}: {outcome}, StartSession {starts}")
    if run["error"] is not None:
        print("\n".join(lines[-15:]))


def summarise(runs):
    """The best run of one plugin on one host count (the least disturbed by other load on the machine),
    the median and the spread of the wall times, the call counts; or the reason there are none."""
    failed = [run for run in runs if run["error"] is not None]
    if not runs or failed:
        return {"error": failed[0]["error"] if failed else "not run"}
    seconds = [run["seconds"] for run in runs]
    best = min(runs, key=lambda run: run["seconds"])

    def count(keys):
        values = sorted({sum(v for k, v in run["calls"].items() if k in keys or k.split(":")[0] in keys) for run in runs})
        return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"

    cpus = [run["cpu"] for run in runs if run.get("cpu") is not None]
    return {
        "seconds": best["seconds"], "median": statistics.median(seconds), "max": max(seconds),
        "cpu": min(cpus) if len(cpus) == len(runs) else None,
        "start_session": count({"ssm:StartSession"}), "s3": count({"s3"}), "tasks": best["tasks"],
    }


def hosts_text(hosts):
    return "1 host" if hosts == 1 else f"{hosts} hosts"


def ratio_cell(numerator, denominator, target_ok):
    if "error" in numerator or "error" in denominator:
        return "n/a", ""
    value = numerator["seconds"] / denominator["seconds"]
    return f"{value:.2f}x", "met" if target_ok(value) else "MISSED"


def report(path):
    with open(path, encoding="utf-8") as handle:
        runs = [json.loads(line) for line in handle if line.strip()]
    figures = {(name, hosts): summarise([r for r in runs if r["name"] == name and r["hosts"] == hosts])
               for name, dummy in PLUGINS for hosts in HOSTS}
    columns = [(name, hosts) for hosts in HOSTS for name, dummy in PLUGINS]
    label, width = 22, 14

    def row(title, cell):
        return f"{title:<{label}}" + "".join(f"{cell(figures[c]):>{width}}" for c in columns)

    def seconds(fmt):
        return lambda f: "n/a" if "error" in f else fmt(f)

    span = width * len(PLUGINS)
    print(" " * label + "".join(f" {hosts_text(h)} ".center(span - 1, "-").rjust(span) for h in HOSTS))
    print(" " * label + "".join(f"{name:>{width}}" for dummy in HOSTS for name, dummy2 in PLUGINS))
    print(row("wall time (s)", seconds(lambda f: f"{f['seconds']:.1f}")))
    print(row("  median, max (s)", seconds(lambda f: f"{f['median']:.1f}, {f['max']:.1f}")))
    print(row("s per task", seconds(lambda f: f"{f['seconds'] / TASKS:.2f}")))
    for kind, dummy in KINDS:
        print(row(f"  {kind} task (s)", seconds(lambda f, k=kind: f"{f['tasks'][k]:.2f}" if k in f["tasks"] else "-")))
    if any(f.get("cpu") is not None for f in figures.values()):
        print(row("CPU (s), least", seconds(lambda f: "-" if f["cpu"] is None else f"{f['cpu']:.1f}")))
    print(row("StartSession calls", seconds(lambda f: f["start_session"])))
    print(row("S3 calls", seconds(lambda f: f["s3"])))
    print()
    print(f"{'ratios':<{label}}" + "".join(f"{hosts_text(h):>{span}}" for h in HOSTS) + f"{'target':>{width}}")
    checks = (
        ("session / nsenter", "session", "nsenter", lambda v: v <= SESSION_VS_NSENTER_MAX, f"<= {SESSION_VS_NSENTER_MAX}x"),
        ("aws_ssm / session", "aws_ssm", "session", lambda v: v >= AWS_SSM_VS_SESSION_MIN, f">= {AWS_SSM_VS_SESSION_MIN:.0f}x"),
    )
    for title, numerator, denominator, target_ok, target in checks:
        cells = [ratio_cell(figures[(numerator, h)], figures[(denominator, h)], target_ok) for h in HOSTS]
        print(f"{title:<{label}}" + "".join(f"{value} {verdict}".rstrip().rjust(span) for value, verdict in cells)
              + f"{target:>{width}}")
    cpu = [(figures[("session", h)], figures[("nsenter", h)]) for h in HOSTS]
    if all(a.get("cpu") and b.get("cpu") for a, b in cpu):
        print(f"{'CPU session / nsenter':<{label}}" + "".join(f"{a['cpu'] / b['cpu']:.2f}x".rjust(span) for a, b in cpu))
    print()
    print("session = " + PLUGINS[0][1] + ", aws_ssm = " + PLUGINS[1][1] + ", nsenter = " + PLUGINS[2][1]
          + ";")
    print("wall time = best of the rounds; s per task = wall time / 20; <kind> task = one task of that kind")
    print("(all hosts) in the best round, from the profile_tasks callback, averaged over the tasks of that kind;")
    print("CPU = CPU seconds of everything a run started (controller, helpers, plugin, node commands), least of the rounds")
    for (name, hosts), figure in figures.items():
        if "error" in figure:
            print(f"n/a: {dict(PLUGINS)[name]} on {hosts_text(hosts)}: {figure['error']}")


def main(argv):
    if argv[:1] == ["inventory"]:
        inventory()
    elif argv[:1] == ["record"] and len(argv) in (10, 11):
        record(*argv[1:])
    elif argv[:1] == ["report"] and len(argv) == 2:
        report(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
