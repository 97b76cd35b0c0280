#!/usr/bin/env bash
# End to end: the README's main job (tests/main_job/run.sh) on 3 sandbox nodes against its own local
# SSM endpoint, then what it must have achieved: every node's drift remediated and reported
# COMPLIANT, its updates installed and reported, as the endpoint's compliance data shows.
# Against a real AWS account there is no sandbox: skipped.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
for arg in "$@"; do
    case $arg in @*) config=${arg#@} ;; esac
done
if [ -z "${config:-}" ] || ! grep -q '"aws_endpoint_url"' "$config"; then
    echo "SKIP: no local SSM endpoint (real AWS): the main job runs on the sandbox"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "needs root (the sandbox nodes)"

collection=""
for p in ${ANSIBLE_COLLECTIONS_PATH//:/ }; do
    if [ -x "$p/ansible_collections/fleetops/ssm/tests/main_job/run.sh" ]; then
        collection=$p/ansible_collections/fleetops/ssm
        break
    fi
done
[ -n "$collection" ] || fail "tests/main_job/run.sh not found on ANSIBLE_COLLECTIONS_PATH"
if [ -z "${FLEETOPS_CACHE:-}" ] && [ -f "$(dirname "$HOME")/sandbox/rootfs-bookworm.stamp" ]; then
    FLEETOPS_CACHE=$(dirname "$HOME") # ansible-test's HOME is $FLEETOPS_CACHE/home: reuse the cached rootfs
    export FLEETOPS_CACHE
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/main-job-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
# CI patches two small packages to keep the run short; the README's command installs every update.
FLEETOPS_MAIN_JOB_OUTPUT=$out FLEETOPS_MAIN_JOB_INCLUDE=${FLEETOPS_MAIN_JOB_INCLUDE:-libsasl2-*,libbrotli*} \
    "$collection/tests/main_job/run.sh" | tee "$out/log"

python3 - "$out" <<'PY'
import json, pathlib, sys

out = pathlib.Path(sys.argv[1])
rows = json.loads((out / "compliance.json").read_text())["rows"]
nodes = {row["node"] for row in rows}
assert nodes == {"node-1", "node-2", "node-3"}, f"nodes in the compliance summary: {sorted(nodes)}"
for node in sorted(nodes):
    types = {row["type"]: row for row in rows if row["node"] == node}
    assert set(types) == {"Custom:Drift", "Custom:Patch"}, f"{node}: compliance types {sorted(types)}"
    for row in types.values():
        assert row["status"] == "COMPLIANT" and row["non_compliant"] == 0 and row["items"] > 0, f"{node}: {row}"
reports = sorted(p.name for p in (out / "drift-reports").iterdir())
assert reports == ["node-1.json", "node-2.json", "node-3.json"], f"drift reports: {reports}"
for name in reports:
    report = json.loads((out / "drift-reports" / name).read_text())
    text = json.dumps(report)
    # The nodes start without the desired state: the report must show drift found and remediated.
    assert "/etc/fleetops/web.conf" in text, f"{name}: the config file is not in the report"
print("ok: drift remediated and patches installed on 3 nodes, all COMPLIANT in SSM")
PY
grep -q "==== 6/6 teardown" "$out/log" || fail "the main job did not reach its teardown"
