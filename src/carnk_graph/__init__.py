"""carnk-graph: a semantic knowledge graph of CAR-NK cell therapy."""
from __future__ import annotations

__version__ = "0.1.0"
