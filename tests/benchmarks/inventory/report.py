"""Prints the inventory benchmark's table: wall time, hosts and API calls per run, and the calls'
ratio to the minimum the APIs allow for the data asked (managed_nodes runs)."""

import json
import math
import sys


def minimum(per_region):
    """DescribeInstanceInformation 50 per call and GetResources 100 ARNs per call, per region, plus one
    GetCallerIdentity for the account id in the ARNs."""
    return sum(math.ceil(n / 50) + math.ceil(n / 100) for n in per_region) + 1


def main():
    runs = json.load(open(sys.argv[1]))
    per_region = [int(n) for n in sys.argv[2].split(",")]
    least = minimum(per_region)
    print(f"{'run':<34} {'seconds':>8} {'hosts':>6} {'API calls':>10} {'x minimum':>10}  calls per operation")
    for run in runs:
        total = sum(run["calls"].values())
        ratio = f"{total / least:.2f}" if run["name"].startswith("managed_nodes") and total else "-"
        detail = ", ".join(f"{key} {value}" for key, value in sorted(run["calls"].items())) or "none"
        print(f"{run['name']:<34} {run['seconds']:>8.2f} {run['hosts']:>6} {total:>10} {ratio:>10}  {detail}")
    print(f"\nminimum for {sum(per_region)} nodes in {len(per_region)} regions with tags: {least} calls")


if __name__ == "__main__":
    main()
