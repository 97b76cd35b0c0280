#!/usr/bin/env bash
# Mirror the working tree into the collections root where ansible-test and ansible-lint
# need it (…/ansible_collections/fleetops/ssm, a git checkout), and print that path.
#
# What is mirrored is what git sees in the working tree: tracked files as they are now
# (uncommitted edits included, deleted ones left out) plus untracked files that are not
# ignored. The git metadata is copied too, so the copy answers git the same way.
# Ignored files (tests/output/, .ansible/, caches, a local cloud-config-aws.ini) are not
# copied; files that disappeared from the working tree are removed from the copy.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v git >/dev/null || fleetops_die "git is not installed; run tests/scripts/bootstrap.sh"
command -v rsync >/dev/null || fleetops_die "rsync is not installed; run tests/scripts/bootstrap.sh"

src=$(git -C "$FLEETOPS_ROOT" rev-parse --show-toplevel)
dest=$FLEETOPS_COLLECTION_DIR
mkdir -p "$dest"

# 1. git metadata
if [ -d "$src/.git" ]; then
    [ -d "$dest/.git" ] || rm -f "$dest/.git"
    rsync -rlpt --delete "$src/.git/" "$dest/.git/"
else
    # A linked worktree (or submodule): .git is a pointer file. Keep a repository of
    # its own in the copy; every file then shows as untracked, which ansible-test and
    # ansible-lint list all the same.
    [ -d "$dest/.git" ] || { rm -f "$dest/.git"; git -C "$dest" init -q; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 2. the files git sees in the working tree
declare -A keep=()
while IFS= read -r -d '' path; do
    case $path in
        tests/output/* | .ansible/*) continue ;;
    esac
    # --cached still lists tracked files deleted from the working tree
    if [ -e "$src/$path" ] || [ -L "$src/$path" ]; then
        keep[$path]=1
        printf '%s\0' "$path"
    fi
done < <(git -C "$src" ls-files -z --cached --others --exclude-standard) >"$tmp/files"

# --checksum: a same-size edit within the same second must not be missed (the tree is small)
rsync -lpt --checksum --from0 --files-from="$tmp/files" "$src/" "$dest/"

# 3. drop what is no longer in the working tree
while IFS= read -r -d '' path; do
    if [ -z "${keep[$path]:-}" ] && { [ -e "$dest/$path" ] || [ -L "$dest/$path" ]; }; then
        rm -f "$dest/$path"
    fi
done < <(git -C "$dest" ls-files -z --cached --others --exclude-standard)
# empty directories left behind (git does not list directories)
find "$dest" -mindepth 1 -depth -type d -empty \
    ! -path "$dest/.git" ! -path "$dest/.git/*" \
    ! -path "$dest/tests/output" ! -path "$dest/tests/output/*" \
    ! -path "$dest/.ansible" ! -path "$dest/.ansible/*" \
    -delete

printf '%s\n' "$dest"
