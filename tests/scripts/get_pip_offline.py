"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates its virtual environments without pip and then runs
``~/.ansible/test/cache/get_pip_<version>.py`` (fetching it from the network when the
file is missing) with pip's install options, e.g.
``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.

tests/scripts/bootstrap.sh copies this file to that name and puts the matching pip
wheel (from ``pip download --no-deps pip==<version>``) beside it. This script runs pip
straight from that wheel to install the requested packages into the running
interpreter. ``--no-setuptools`` and ``--no-wheel`` are options of the real bootstrap
script only, not of ``pip install``, so they are dropped.
"""

from __future__ import annotations

import glob
import os
import re
import sys

BOOTSTRAP_ONLY_OPTIONS = {'--no-setuptools', '--no-wheel'}


def find_wheel(directory: str, version: str | None) -> str:
    """Return the path of the pip wheel stored next to this script."""
    pattern = 'pip-%s-*.whl' % (version or '*')
    wheels = sorted(glob.glob(os.path.join(directory, pattern)))

    if not wheels:
        sys.exit('pip bootstrap: no wheel matching %s in %s; run tests/scripts/bootstrap.sh' % (pattern, directory))

    return wheels[-1]


def main() -> None:
    """Install the requested packages with pip run from the stored wheel."""
    directory = os.path.dirname(os.path.abspath(__file__))
    match = re.match(r'get_pip_(\d+(?:_\d+)*)\.py$', os.path.basename(__file__))
    version = match.group(1).replace('_', '.') if match else None
    wheel = find_wheel(directory, version)

    wheel_version = os.path.basename(wheel).split('-')[1]
    args = []

    for arg in sys.argv[1:]:
        if arg in BOOTSTRAP_ONLY_OPTIONS:
            continue

        # pip itself is installed from the stored wheel rather than downloaded again.
        if arg.replace(' ', '') in ('pip', 'pip==%s' % wheel_version):
            arg = wheel

        args.append(arg)

    # A wheel is a zip archive that Python can import from; pip supports running this way.
    sys.path.insert(0, wheel)

    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    sys.exit(pip_main(['install'] + args))


if __name__ == '__main__':
    main()
