"""Runs one command of the inventory benchmark and appends its figures to the results file: wall time,
CPU time (user + system of the command and its children: on a shared machine the fairer figure), the
hosts it saw and the API calls the local endpoint counted meanwhile.

    python measure.py RESULTS NAME URL OUTPUT -- COMMAND...

The host count comes from OUTPUT: the JSON of ``ansible-inventory --list`` or the ``hosts (N):`` line of
``ansible-playbook --list-hosts``.
"""

import json
import re
import resource
import subprocess
import sys
import time
import urllib.request


def calls(url, method="GET"):
    request = urllib.request.Request(f"{url}/_fleetops/calls", method=method)
    with urllib.request.urlopen(request) as response:
        return json.load(response) if method == "GET" else None


def hosts(output):
    with open(output) as fh:
        text = fh.read()
    if text.lstrip().startswith("{"):  # hosts without variables are only in their groups' lists
        inventory = json.loads(text)
        names = set(inventory["_meta"]["hostvars"])
        for group in inventory.values():
            names.update(group.get("hosts", []))
        return len(names)
    found = re.search(r"hosts \((\d+)\):", text)
    return int(found.group(1)) if found else 0


def main():
    results, name, url, output = sys.argv[1:5]
    command = sys.argv[sys.argv.index("--") + 1:]
    calls(url, "DELETE")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with open(output, "w") as out:
        subprocess.run(command, stdout=out, check=True)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(results) as fh:
        runs = json.load(fh)
    runs.append({"name": name, "seconds": seconds, "cpu": cpu, "hosts": hosts(output), "calls": calls(url)})
    with open(results, "w") as fh:
        json.dump(runs, fh)


if __name__ == "__main__":
    main()
