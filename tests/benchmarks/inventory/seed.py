"""Registers N managed nodes with the local endpoint's control API: two regions, half EC2, half hybrid.

Every node has three tags (Name, Role, Patch Group) and is online while the LEADER process lives.
Four requests at a time: the endpoint serves each in its own thread.

    python seed.py URL COUNT LEADER_PID
"""

import hashlib
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

REGIONS = ("us-east-1", "eu-west-1")


def node(index, leader):
    digest = hashlib.sha256(f"bench-{index}".encode()).hexdigest()[:17]
    ec2 = index % 4 < 2
    return {
        "instance_id": ("i-" if ec2 else "mi-") + digest,
        "resource_type": "EC2Instance" if ec2 else "ManagedInstance",
        "region": REGIONS[index % 2], "leader_pid": leader, "computer_name": f"node-{index}",
        "ip_address": "192.0.2.10", "platform_name": "Debian GNU/Linux", "platform_version": "12",
        "tags": {"Name": f"node-{index}", "Role": ("web", "db", "app")[index % 3], "Patch Group": f"pg-{index % 5}"},
    }


def register(url, body):
    request = urllib.request.Request(f"{url}/_fleetops/nodes", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        response.read()


def main():
    url, count, leader = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(register, url, node(index, leader)) for index in range(count)]:
            future.result()
    print(f"seeded {count} nodes in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
