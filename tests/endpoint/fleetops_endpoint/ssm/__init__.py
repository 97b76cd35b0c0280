"""Our SSM layer: the operations moto lacks or gets wrong.

Importing this package registers every area module's handlers in
``registry.OPERATIONS``.  To add an area, create a module next to
``parameters.py`` and import it below.
"""

from . import registry  # noqa: F401
from . import tags  # noqa: F401  (before the areas that register taggable types)
from . import parameters  # noqa: F401
from . import documents  # noqa: F401
from . import nodes  # noqa: F401  (managed nodes; before sessions and commands, which use them)
from . import sessions  # noqa: F401
from . import commands  # noqa: F401
from . import patching  # noqa: F401
from . import maintenance_windows  # noqa: F401
from . import inventory  # noqa: F401  (SSM Inventory; uses the managed nodes)
from .dispatch import dispatch  # noqa: F401

__all__ = ["dispatch", "registry"]
