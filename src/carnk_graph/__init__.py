"""carnk-graph: a semantic knowledge graph of CAR-NK cell therapy.

The notebook API (`load`, `query`, `validate`, `export`, `Rows`; see carnk_graph.api)
is imported on first use, so `import carnk_graph` stays cheap for the CLI.
"""
from __future__ import annotations

import sys as _sys
import types as _types

__version__ = "0.1.0"

_API = ("load", "query", "validate", "export", "Rows")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """Import the API module only when one of its names is first used."""
    if name in _API:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})


class _Package(_types.ModuleType):
    """`carnk_graph.validate` names two things: the API function and the SHACL stage module
    (carnk_graph/validate.py). Importing a submodule sets it as an attribute of its package,
    which would replace the function the first time the build imports the stage, so the name
    is a property: it always gives the API function, and the submodule stays reachable
    through `from carnk_graph.validate import ...` (sys.modules), as before."""

    @property
    def validate(self):
        from .api import validate
        return validate

    @validate.setter
    def validate(self, module) -> None:
        self.__dict__["_validate_module"] = module


_sys.modules[__name__].__class__ = _Package
