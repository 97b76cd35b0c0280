"""Prints the inventory benchmark's table: wall and CPU time, hosts and API calls per run, the calls'
ratio to the minimum the APIs allow for the data asked (managed_nodes runs), and the issue's targets.

A run repeated over rounds shows its best wall time and its best CPU time, and its most API calls."""

import json
import math
import sys

TARGETS = (  # (run, seconds, what)
    ("managed_nodes cold", 15, "cold --list under 15 s"),
    ("managed_nodes cached", 2, "cached --list under 2 s"),
    ("managed_nodes cached, playbook load", 2, "cached, as a playbook loads it, under 2 s"),
)


def minimum(per_region):
    """DescribeInstanceInformation 50 per call and GetResources 100 ARNs per call, per region, plus one
    GetCallerIdentity for the account id in the ARNs."""
    return sum(math.ceil(n / 50) + math.ceil(n / 100) for n in per_region) + 1


def best(runs):
    """One entry per run name, in the order they first ran."""
    merged = {}
    for run in runs:
        if run["name"] not in merged:
            merged[run["name"]] = dict(run, rounds=1)
            continue
        kept = merged[run["name"]]
        kept["seconds"] = min(kept["seconds"], run["seconds"])
        kept["cpu"] = min(kept["cpu"], run["cpu"])
        kept["rounds"] += 1
        if sum(run["calls"].values()) > sum(kept["calls"].values()):
            kept["calls"] = run["calls"]
        if run["hosts"] != kept["hosts"]:
            raise SystemExit(f"{run['name']}: {run['hosts']} hosts in one round, {kept['hosts']} in another")
    return list(merged.values())


def main():
    runs = best(json.load(open(sys.argv[1])))
    per_region = [int(n) for n in sys.argv[2].split(",")]
    least = minimum(per_region)
    print(f"{'run':<40} {'wall s':>7} {'CPU s':>6} {'hosts':>6} {'API calls':>9} {'x min':>6}  calls per operation")
    for run in runs:
        total = sum(run["calls"].values())
        ratio = f"{total / least:.2f}" if run["name"].startswith("managed_nodes") and total else "-"
        detail = ", ".join(f"{key} {value}" for key, value in sorted(run["calls"].items())) or "none"
        print(f"{run['name']:<40} {run['seconds']:>7.2f} {run['cpu']:>6.2f} {run['hosts']:>6} {total:>9} {ratio:>6}  "
              f"{detail}")
    print(f"\nminimum for {sum(per_region)} nodes in {len(per_region)} regions with tags: {least} calls")
    by_name = {run["name"]: run for run in runs}
    print("targets (wall time; CPU time in brackets, what an idle machine would take):")
    for name, limit, what in TARGETS:
        run = by_name.get(name)
        if run:
            verdict = "met" if run["seconds"] < limit else ("met in CPU time" if run["cpu"] < limit else "missed")
            print(f"  {what:<45} {run['seconds']:6.2f} s ({run['cpu']:.2f} s)  {verdict}")
    cold = by_name.get("managed_nodes cold")
    if cold:
        total = sum(cold["calls"].values())
        print(f"  {'API calls at most 1.1 x the minimum':<45} {total / least:6.2f} x      "
              f"{'met' if total <= 1.1 * least else 'missed'}")


if __name__ == "__main__":
    main()
