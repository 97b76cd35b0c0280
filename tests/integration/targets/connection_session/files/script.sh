#!/bin/sh
echo "script on $(hostname) args: $*"
echo "script stderr" >&2
exit 0
