"""Size limits on what the package reads, and the one reading of CARNK_MAX_INPUT_MB.

Its own module so that every reader (sources.py, tables.py, ...) can ask it
without importing the others.
"""
from __future__ import annotations

import math
import os

from .errors import BadInputError

#: Longest SPARQL text read. Saved queries are a few KB; a 20 MB UNION crashed pyoxigraph's parser.
MAX_QUERY_CHARS = 1 << 20

#: Largest file parsed, in MiB. Bigger inputs are refused before reading:
#: a curator's file of hundreds of MB is a mistake, and parsing it would take
#: minutes and gigabytes. Override with CARNK_MAX_INPUT_MB.
DEFAULT_MAX_INPUT_MB = 64


def max_input_bytes() -> int:
    """The input cap in bytes: CARNK_MAX_INPUT_MB (a positive, finite number of MiB) or the default.

    A value that is not one (abc, nan, inf, 0, -1) is a usage error, never silently replaced
    by the default or applied as no limit at all.
    """
    raw = os.environ.get("CARNK_MAX_INPUT_MB")
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_INPUT_MB * 1024 * 1024
    try:
        mb = float(raw)
    except ValueError:
        mb = math.nan
    if not math.isfinite(mb) or mb <= 0:
        raise BadInputError(f"CARNK_MAX_INPUT_MB={raw.strip()[:40]!r} is not a positive number of MiB "
                            f"(unset it for the default, {DEFAULT_MAX_INPUT_MB})")
    return max(1, int(mb * 1024 * 1024))
