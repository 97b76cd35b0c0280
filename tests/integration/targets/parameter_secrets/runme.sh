#!/usr/bin/env bash
# SecureString values must never reach Ansible's output: not at -vvv, not in diffs, not in
# failures. Run a playbook that writes, changes and fails on secrets, then grep its output.
set -eu
set -o pipefail

output="$(mktemp)"
trap 'rm -f "${output}"' EXIT

secret="never-shown-$(date +%s%N)"
ansible-playbook playbooks/secrets.yml -vvv --diff -e "secret_value=${secret}" "$@" >"${output}" 2>&1 || { cat "${output}"; exit 1; }
cat "${output}"

if grep -q -- "${secret}" "${output}"; then
    echo "FAIL: a SecureString value appears in the -vvv --diff output" >&2
    exit 1
fi
grep -q 'secrets checked' "${output}" || { echo "FAIL: the playbook did not run to its end" >&2; exit 1; }
echo "OK: no SecureString value in $(wc -l <"${output}") lines of -vvv --diff output"
