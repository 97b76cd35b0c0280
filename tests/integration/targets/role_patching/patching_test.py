"""Checks of the role_patching target: what the endpoint holds after a run of playbooks/patch.yml.

    python patching_test.py document NAME             create the stand-in patch document (see below)
    python patching_test.py compliance ID [checks]    check the Custom:Patch compliance of a node
    python patching_test.py summary ID                print the node's Custom:Patch summary item (JSON, null without)
    python patching_test.py no-compliance ID...       check that the nodes have no Custom:Patch compliance
    python patching_test.py command [checks]          check the latest Run Command
    python patching_test.py calls [--zero OP] [--count OP=N]   check the endpoint's call counts
    python patching_test.py cleanup [--baseline NAME] [--document NAME]   remove what the test created

Every check prints what it found; a failed check exits 1 with the reason. The endpoint is
$AWS_ENDPOINT_URL (us-east-1, test credentials from the environment).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

import boto3

COMPLIANCE_TYPE = "Custom:Patch"

# A stand-in for AWS-RunPatchBaseline, which the sandbox cannot run: the same Operation and RebootOption
# parameters, a node fails when /etc/fleetops-patch-outcome holds "fail", and a node that succeeds
# reports its patch state the way AWS-RunPatchBaseline does (here through the endpoint's control API).
STAND_IN = {
    "schemaVersion": "2.2",
    "description": "Test stand-in for AWS-RunPatchBaseline (Operation, RebootOption).",
    "parameters": {
        "Operation": {"type": "String", "allowedValues": ["Scan", "Install"]},
        "RebootOption": {"type": "String", "default": "RebootIfNeeded",
                         "allowedValues": ["RebootIfNeeded", "NoReboot"]},
    },
    "mainSteps": [{
        "action": "aws:runShellScript",
        "name": "PatchLinux",
        "inputs": {"runCommand": [
            "echo 'Operation={{Operation}} RebootOption={{RebootOption}}' > /var/tmp/fleetops-patch-run",
            "if grep -qx fail /etc/fleetops-patch-outcome 2>/dev/null; then",
            "  echo 'simulated patch failure on this node' >&2; exit 1",
            "fi",
            "if [ '{{Operation}}' = Install ]; then state=Installed; else state=Missing; fi",
            "cat > /var/tmp/fleetops-patch-state.json <<EOF",
            '{"instance_id": "$AWS_SSM_INSTANCE_ID", "patch_group": "fleetops-test", "operating_system": "DEBIAN",',
            ' "operation": "{{Operation}}", "patches": [{"title": "libfleetops1", "state": "$state",',
            '  "classification": "security", "severity": "important"}]}',
            "EOF",
            "curl -sf --noproxy '*' -X POST -H 'Content-Type: application/json' "
            "-d @/var/tmp/fleetops-patch-state.json ENDPOINT/_fleetops/patch-states >/dev/null",
            "echo \"{{Operation}} done\"",
        ]},
    }],
}


def fail(message: str) -> None:
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def ssm():
    return boto3.client("ssm", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def create_document(args: argparse.Namespace) -> None:
    content = json.dumps(STAND_IN).replace("ENDPOINT", os.environ["AWS_ENDPOINT_URL"])
    ssm().create_document(Name=args.name, Content=content, DocumentType="Command", DocumentFormat="JSON")
    print(f"ok: document {args.name} created")


def compliance_items(client, instance_id: str) -> list[dict]:
    items, token = [], None
    while True:
        kwargs = {"ResourceIds": [instance_id], "ResourceTypes": ["ManagedInstance"], "MaxResults": 50,
                  "Filters": [{"Key": "ComplianceType", "Values": [COMPLIANCE_TYPE], "Type": "EQUAL"}]}
        if token:
            kwargs["NextToken"] = token
        page = client.list_compliance_items(**kwargs)
        items += page["ComplianceItems"]
        token = page.get("NextToken")
        if not token:
            return items


def check_compliance(args: argparse.Namespace) -> None:
    items = compliance_items(ssm(), args.instance_id)
    summary = next((i for i in items if i["Id"] == "PatchRun"), None)
    if summary is None:
        fail(f"{args.instance_id}: no {COMPLIANCE_TYPE} summary item (items: {[i['Id'] for i in items]})")
    details = summary.get("Details") or {}
    packages = {i["Id"]: i for i in items if i["Id"] != "PatchRun"}
    states = {pid: (i.get("Details") or {}).get("State") for pid, i in packages.items()}
    print(f"{args.instance_id}: {summary['Status']} '{summary['Title']}' details={json.dumps(details)}")
    if args.status and summary["Status"] != args.status:
        fail(f"{args.instance_id}: status {summary['Status']}, expected {args.status}")
    if args.operation and details.get("Operation") != args.operation:
        fail(f"{args.instance_id}: operation {details.get('Operation')}, expected {args.operation}")
    for key, value in (("Missing", args.missing), ("Installed", args.installed), ("Failed", args.failed)):
        if value is not None and details.get(key) != str(value):
            fail(f"{args.instance_id}: {key} {details.get(key)}, expected {value}")
    for key, value in (("Rebooted", args.rebooted), ("Unreachable", args.unreachable)):
        if value is not None and details.get(key) != value:
            fail(f"{args.instance_id}: {key} {details.get(key)}, expected {value}")
    for text in args.error or []:
        if text not in details.get("Error", ""):
            fail(f"{args.instance_id}: the error does not say {text!r}: {details.get('Error')!r}")
    if args.no_error and details.get("Error"):
        fail(f"{args.instance_id}: unexpected error {details['Error']!r}")
    for text in args.services or []:
        if text not in details.get("Services", ""):
            fail(f"{args.instance_id}: services {details.get('Services')!r} do not include {text!r}")
    for spec in args.package or []:
        name, state = (spec.split("=", 1) + [""])[:2]
        if states.get(name) != state:
            fail(f"{args.instance_id}: package {name} is {states.get(name)!r}, expected {state!r}")
        expected = "COMPLIANT" if state == "Installed" else "NON_COMPLIANT"
        if packages[name]["Status"] != expected:
            fail(f"{args.instance_id}: package item {name} is {packages[name]['Status']}, expected {expected}")
    if args.items is not None and len(packages) != args.items:
        fail(f"{args.instance_id}: {len(packages)} package items, expected {args.items}")
    print(f"ok: {args.instance_id} {COMPLIANCE_TYPE}: {summary['Status']}, {len(packages)} package items")


def show_summary(args: argparse.Namespace) -> None:
    summary = next((i for i in compliance_items(ssm(), args.instance_id) if i["Id"] == "PatchRun"), None)
    print(json.dumps(summary, default=str, sort_keys=True))


def check_no_compliance(args: argparse.Namespace) -> None:
    client = ssm()
    for instance_id in args.instance_ids:
        items = compliance_items(client, instance_id)
        if items:
            fail(f"{instance_id}: has {len(items)} {COMPLIANCE_TYPE} items: {[i['Id'] for i in items][:5]}")
    print(f"ok: no {COMPLIANCE_TYPE} compliance on {' '.join(args.instance_ids)}")


def check_command(args: argparse.Namespace) -> None:
    commands = ssm().list_commands(MaxResults=5)["Commands"]
    if not commands:
        fail("no command was sent")
    command = max(commands, key=lambda c: c["RequestedDateTime"])
    shown = {k: command.get(k) for k in ("CommandId", "DocumentName", "Parameters", "Targets", "InstanceIds",
                                         "MaxConcurrency", "MaxErrors", "Status", "TargetCount", "ErrorCount",
                                         "Comment")}
    print(f"latest command: {json.dumps(shown, default=str)}")
    if args.document and command["DocumentName"] != args.document:
        fail(f"document {command['DocumentName']}, expected {args.document}")
    for spec in args.parameter or []:
        name, value = (spec.split("=", 1) + [""])[:2]
        got = command.get("Parameters", {}).get(name)
        if (value == "" and got is not None) or (value != "" and got != [value]):
            fail(f"parameter {name} is {got}, expected {[value] if value else 'unset'}")
    for spec in args.target or []:
        key, value = (spec.split("=", 1) + [""])[:2]
        if {"Key": key, "Values": value.split(",")} not in command.get("Targets", []):
            fail(f"targets {command.get('Targets')} do not include {key}={value}")
    for key, value in (("MaxConcurrency", args.max_concurrency), ("MaxErrors", args.max_errors),
                       ("TargetCount", args.target_count)):
        if value is not None and str(command.get(key)) != str(value):
            fail(f"{key} {command.get(key)}, expected {value}")
    print(f"ok: command {command['CommandId']} as expected")


def check_calls(args: argparse.Namespace) -> None:
    with urllib.request.urlopen(f"{os.environ['AWS_ENDPOINT_URL']}/_fleetops/calls") as response:
        calls = json.load(response)
    seen = {op: calls.get(f"ssm:{op}", 0) for op in args.zero}
    if any(seen.values()):
        fail(f"calls that should not have been made: {seen}")
    for spec in args.count:
        op, number = (spec.split("=", 1) + [""])[:2]
        if calls.get(f"ssm:{op}", 0) != int(number):
            fail(f"{calls.get(f'ssm:{op}', 0)} {op} calls, expected {number}")
    print(f"ok: calls as expected ({' '.join(args.zero + args.count)})")


def cleanup(args: argparse.Namespace) -> None:
    """Removes what the target created in the endpoint (the nodes go with the fleet)."""
    client = ssm()
    if args.baseline:
        found = client.describe_patch_baselines(
            Filters=[{"Key": "NAME_PREFIX", "Values": [args.baseline]}, {"Key": "OWNER", "Values": ["Self"]}])
        for identity in found["BaselineIdentities"]:
            if identity["BaselineName"] != args.baseline:
                continue
            baseline = client.get_patch_baseline(BaselineId=identity["BaselineId"])
            for group in baseline.get("PatchGroups", []):
                client.deregister_patch_baseline_for_patch_group(BaselineId=identity["BaselineId"], PatchGroup=group)
            client.delete_patch_baseline(BaselineId=identity["BaselineId"])
    if args.document:
        try:
            client.delete_document(Name=args.document)
        except client.exceptions.InvalidDocument:
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    doc = sub.add_parser("document")
    doc.add_argument("name")
    doc.set_defaults(run=create_document)
    comp = sub.add_parser("compliance")
    comp.add_argument("instance_id")
    comp.add_argument("--status", choices=["COMPLIANT", "NON_COMPLIANT"])
    comp.add_argument("--operation", choices=["Scan", "Install"])
    comp.add_argument("--missing", type=int)
    comp.add_argument("--installed", type=int)
    comp.add_argument("--failed", type=int)
    comp.add_argument("--items", type=int)
    comp.add_argument("--rebooted", choices=["true", "false"])
    comp.add_argument("--unreachable", choices=["true", "false"])
    comp.add_argument("--error", action="append", help="text the error must contain")
    comp.add_argument("--no-error", action="store_true")
    comp.add_argument("--services", action="append", help="text the services detail must contain")
    comp.add_argument("--package", action="append", help="NAME=STATE (Missing, Installed, Failed)")
    comp.set_defaults(run=check_compliance)
    summary = sub.add_parser("summary")
    summary.add_argument("instance_id")
    summary.set_defaults(run=show_summary)
    none = sub.add_parser("no-compliance")
    none.add_argument("instance_ids", nargs="+")
    none.set_defaults(run=check_no_compliance)
    cmd = sub.add_parser("command")
    cmd.add_argument("--document")
    cmd.add_argument("--parameter", action="append", help="NAME=VALUE, or NAME= for unset")
    cmd.add_argument("--target", action="append", help="KEY=VALUE[,VALUE]")
    cmd.add_argument("--max-concurrency")
    cmd.add_argument("--max-errors")
    cmd.add_argument("--target-count", type=int)
    cmd.set_defaults(run=check_command)
    calls = sub.add_parser("calls")
    calls.add_argument("--zero", action="append", default=[])
    calls.add_argument("--count", action="append", default=[], help="OP=N")
    calls.set_defaults(run=check_calls)
    clean = sub.add_parser("cleanup")
    clean.add_argument("--baseline")
    clean.add_argument("--document")
    clean.set_defaults(run=cleanup)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
