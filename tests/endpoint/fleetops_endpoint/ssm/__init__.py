"""Our SSM layer: the operations moto lacks or gets wrong.

Importing this package registers every area module's handlers in
``registry.OPERATIONS``.  To add an area, create a module next to
``parameters.py`` and import it below.
"""

from . import registry  # noqa: F401
from . import tags  # noqa: F401  (before the areas that register taggable types)
from . import parameters  # noqa: F401
from . import documents  # noqa: F401
from . import user_documents  # noqa: F401  (documents users create; after documents)
from . import nodes  # noqa: F401  (managed nodes; before sessions and commands, which use them)
from . import sessions  # noqa: F401
from . import commands  # noqa: F401
from . import patching  # noqa: F401
from . import maintenance_windows  # noqa: F401
from . import inventory  # noqa: F401  (SSM Inventory; uses the managed nodes)
from . import activations  # noqa: F401  (hybrid activations; registers managed nodes)
from . import compliance  # noqa: F401  (SSM Compliance; uses the managed nodes and patch states)
from .dispatch import dispatch  # noqa: F401

__all__ = ["dispatch", "registry"]
