# Test stand-in for the ssm-cli of amazon-ssm-agent (tests/agent_package/): only the
# get-instance-information command, answered from the machine's registration.
"""Test stand-in for ssm-cli (see the comment above)."""

import json
import sys

REGISTRATION = "/var/lib/amazon/ssm/registration"
VERSION = "@VERSION@"


def main(args):
    if args != ["get-instance-information"]:
        sys.stderr.write("usage: ssm-cli get-instance-information\n")
        return 1
    try:
        with open(REGISTRATION, encoding="utf-8") as fh:
            registration = json.load(fh)
    except (OSError, ValueError):
        sys.stderr.write("error: the instance is not registered: no registration information found\n")
        return 1
    print(json.dumps({"instance-id": registration["ManagedInstanceID"], "region": registration["Region"],
                      "release-version": VERSION}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
