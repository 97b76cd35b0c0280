"""``python -m fleetops_endpoint serve|start|stop`` (see README.md)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
