"""Print the benchmark's figures side by side: wall time and API calls per operation."""

import json
import sys

WRITES = ("PutParameter", "DeleteParameter", "DeleteParameters", "LabelParameterVersion", "AddTagsToResource", "RemoveTagsFromResource")


def main(path):
    runs = json.load(open(path, encoding="utf-8"))
    names = [run["name"] for run in runs]
    operations = sorted({op for run in runs for op in run["calls"]})
    width = max(len(n) for n in names) + 2
    print(f"{'':34}" + "".join(f"{n:>{width}}" for n in names))
    print(f"{'wall time (s)':34}" + "".join(f"{run['seconds']:>{width}.1f}" for run in runs))
    for op in operations:
        print(f"{op:34}" + "".join(f"{run['calls'].get(op, 0):>{width}}" for run in runs))
    print(f"{'write calls':34}" + "".join(
        f"{sum(v for k, v in run['calls'].items() if k.split(':')[-1] in WRITES):>{width}}" for run in runs))
    by_name = {run["name"]: run for run in runs}
    for label, ours, peer in (("first sync", "ours-first", "peer-first"), ("re-run", "ours-rerun", "peer-rerun")):
        if ours in by_name and peer in by_name:
            ratio = by_name[peer]["seconds"] / max(by_name[ours]["seconds"], 1e-9)
            print(f"{label}: parameter_path is {ratio:.1f}x faster than the community.aws.ssm_parameter loop")


if __name__ == "__main__":
    main(sys.argv[1])
