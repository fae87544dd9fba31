"""carnk-graph: a semantic knowledge graph of CAR-NK cell therapy.

The notebook API (`load`, `query`, `validate`, `export`, `Rows`; see carnk_graph.api)
is imported on first use, so `import carnk_graph` stays cheap for the CLI. No
submodule shares a name with these calls (the SHACL stage is carnk_graph.shacl),
so `carnk_graph.validate` is always the API function.
"""
from __future__ import annotations

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
