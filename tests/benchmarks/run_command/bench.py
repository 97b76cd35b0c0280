"""Helpers of the Run Command benchmark (run.sh).

  bench.py inventory < fleet-ls.json                the sandbox nodes as an INI inventory group
  bench.py ids < fleet-ls.json                      {"bench_ids": [...], "bench_expected": N} for command.yml
  bench.py register URL LEADER COUNT TAG            register COUNT instant nodes; prints the same JSON
  bench.py record RESULTS NAME ROUND START END STATUS LOG CALLS
                                                    append one run to RESULTS (JSON lines)
  bench.py report RESULTS NODES                     print the figures side by side, check the polling target
"""

import hashlib
import json
import math
import re
import statistics
import sys
import urllib.request

PAGE = 50  # nodes per ListCommandInvocations page
SIDE_BY_SIDE = (("command", "fleetops.ssm.command, 1 task"), ("session", "fleetops.ssm.session, 1 task per host"))
FAN_OUT = (("fanout-tag", "targets by tag (1 command)"), ("fanout-ids", "instance_ids (1 per 50 nodes)"),
           ("fanout-check", "check mode, by tag"))
# The profile_tasks callback's summary line of the timed task (its name starts with "Run uname").
PROFILE = re.compile(r"^Run uname.*? -+ (?P<seconds>\d+\.\d+)s$")
# What the module may call while it polls a command, besides ListCommandInvocations and ListCommands.
BEFORE_SENDING = ("ssm:DescribeDocument", "ssm:GetDocument", "ssm:DescribeInstanceInformation", "ssm:SendCommand")


def inventory():
    print("[nodes]")
    for node in json.load(sys.stdin)["nodes"]:
        print(f"{node['name']} ansible_host={node['instance_id']}")
    print("[nodes:vars]")
    print("ansible_python_interpreter=/usr/bin/python3")


def ids():
    found = [node["instance_id"] for node in json.load(sys.stdin)["nodes"]]
    print(json.dumps({"bench_ids": found, "bench_expected": len(found)}))


def register(url, leader, count, tag):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    found = []
    for index in range(int(count)):
        instance_id = "mi-" + hashlib.sha256(f"{tag}-{index}".encode()).hexdigest()[:17]
        body = {"instance_id": instance_id, "name": f"{tag}-{index}", "computer_name": f"{tag}-{index}",
                "leader_pid": int(leader), "executor": "instant", "tags": {"Name": f"{tag}-{index}", "Bench": tag}}
        request = urllib.request.Request(f"{url}/_fleetops/nodes", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        opener.open(request).read()
        found.append(instance_id)
    print(json.dumps({"bench_ids": found, "bench_expected": len(found), "bench_tag": tag}))


def record(path, name, round_, start, end, status, log, calls):
    with open(log, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    task = [float(m.group("seconds")) for m in (PROFILE.match(line.strip()) for line in lines) if m]
    run = {"name": name, "round": int(round_), "seconds": float(end) - float(start), "status": int(status),
           "calls": json.loads(calls), "task_seconds": task[0] if task else None}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(run) + "\n")
    outcome = f"{run['seconds']:.1f} s" if run["status"] == 0 else f"FAILED (exit {run['status']})"
    print(f"--- {name}, round {run['round']}: {outcome}, {sum(run['calls'].values())} API calls")
    if run["status"] != 0:
        print("\n".join(lines[-20:]))


def _table(runs, columns, title):
    """One column per run kind: best and median wall time, then the calls of the best run, per operation."""
    by_name = {}
    for run in runs:
        by_name.setdefault(run["name"], []).append(run)
    shown = [(name, label) for name, label in columns if name in by_name]
    best = {name: min(by_name[name], key=lambda run: run["seconds"]) for name, dummy in shown}
    operations = sorted({op for name, dummy in shown for op in best[name]["calls"]})
    width = max([len(label) for dummy, label in shown] + [12]) + 2
    print(title)
    print(f"{'':36}" + "".join(f"{label:>{width}}" for dummy, label in shown))
    rounds = {name: len(by_name[name]) for name, dummy in shown}
    print(f"{'wall time, best (s)':36}" + "".join(f"{best[name]['seconds']:>{width}.2f}" for name, dummy in shown))
    print(f"{'wall time, median (s)':36}" + "".join(
        f"{statistics.median(r['seconds'] for r in by_name[name]):>{width}.2f}" for name, dummy in shown))
    print(f"{'the task alone, best (s)':36}" + "".join(
        f"{min((r['task_seconds'] or 0) for r in by_name[name]):>{width}.2f}" for name, dummy in shown))
    print(f"{'runs':36}" + "".join(f"{rounds[name]:>{width}}" for name, dummy in shown))
    for op in operations:
        print(f"{op:36}" + "".join(f"{best[name]['calls'].get(op, 0):>{width}}" for name, dummy in shown))
    print(f"{'API calls in all':36}" + "".join(f"{sum(best[name]['calls'].values()):>{width}}" for name, dummy in shown))
    failed = [run for run in runs if run["status"] != 0 and run["name"] in dict(shown)]
    for run in failed:
        print(f"!! {run['name']} round {run['round']} FAILED (exit {run['status']})")
    return best, failed


def polling_target(best, nodes):
    """At most one ListCommandInvocations page per 50 nodes per poll, plus ListCommands."""
    pages = math.ceil(nodes / PAGE)
    ok = True
    for name in ("fanout-tag", "fanout-ids"):
        if name not in best:
            continue
        calls = best[name]["calls"]
        commands = calls.get("ssm:SendCommand", 0)
        polls = math.ceil(calls.get("ssm:ListCommands", 0) / max(commands, 1))
        listed = calls.get("ssm:ListCommandInvocations", 0)
        others = {op: n for op, n in calls.items()
                  if op not in BEFORE_SENDING + ("ssm:ListCommands", "ssm:ListCommandInvocations")}
        met = listed <= pages * max(polls, 1) and not others
        ok = ok and met
        print(f"{name}: {commands} command(s), {polls} poll(s) (ListCommands {calls.get('ssm:ListCommands', 0)}), "
              f"ListCommandInvocations {listed} page(s) for {nodes} nodes (at most {pages} per poll), "
              f"other calls while polling: {others or 'none'} -> {'met' if met else 'NOT MET'}")
    return ok


def report(path, nodes):
    nodes = int(nodes)
    with open(path, encoding="utf-8") as handle:
        runs = [json.loads(line) for line in handle if line.strip()]
    dummy, failed_a = _table(runs, SIDE_BY_SIDE, "(a) uname -a on the 3 sandbox nodes")
    print()
    best, failed_b = _table(runs, FAN_OUT, f"(b) fan-out to {nodes:,} instant nodes, one fleetops.ssm.command task")
    print()
    print("Target: while polling, at most one ListCommandInvocations page per 50 nodes per poll, plus ListCommands.")
    met = polling_target(best, nodes)
    return 0 if met and not failed_a and not failed_b else 1


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "inventory":
        inventory()
    elif command == "ids":
        ids()
    elif command == "register":
        register(*argv[2:6])
    elif command == "record":
        record(*argv[2:10])
    elif command == "report":
        return report(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
