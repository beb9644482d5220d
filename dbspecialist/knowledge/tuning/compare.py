"""Compare recommended values with live ones, across the units each engine reports."""

from __future__ import annotations

import math
import re

from dbspecialist.knowledge.tuning.model import largest_exact_unit

_SIZE_RE = re.compile(r"^\s*(?P<num>-?\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]i?b?|b|bytes)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "bytes": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
_UNITS |= {"t": 1024**4, "tb": 1024**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
# pg_settings units: a raw `setting` is a count of these.
_PG_UNITS = {"8kB": 8192, "kB": 1024, "MB": 1024**2, "B": 1, "16MB": 16 * 1024**2, "32kB": 32 * 1024}
_PG_TIME = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_TIME_RE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|min|h|d)\s*$")


# SQLite reports these PRAGMAs as numbers but the recommendations name them (sqlite.org/pragma.html).
_SQLITE_ENUMS: dict[str, dict[str, str]] = {
    "auto_vacuum": {"0": "NONE", "1": "FULL", "2": "INCREMENTAL"},
    "synchronous": {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"},
    "temp_store": {"0": "DEFAULT", "1": "FILE", "2": "MEMORY"},
}


def to_bytes(value: str) -> float | None:
    """A size in bytes, kept as a float so fractions (0.05, 1.5MB) are never truncated."""
    match = _SIZE_RE.match(value)
    if not match:
        return None
    unit = (match["unit"] or "").lower()
    factor = _UNITS.get(unit)
    return None if factor is None else float(match["num"]) * factor


def live_value(
    engine: str, value: str | None, unit: str | None, *, like: str | None = None, name: str | None = None
) -> str | None:
    """The live value as a person reads it: PostgreSQL raw settings times their unit; a byte count (MySQL, MariaDB)
    in the unit letters of the recommendation `like` when that is a size such as `12G`; SQLite's numeric
    enums (auto_vacuum, synchronous, temp_store) by name when `name` is given."""
    if value is None:
        return None
    if engine == "sqlite" and name is not None and name.lower() in _SQLITE_ENUMS:
        return _SQLITE_ENUMS[name.lower()].get(value.strip(), value)
    if like is not None and value.isdigit() and _MYSQL_SIZE_RE.match(like):
        return largest_exact_unit(int(value), _MYSQL_SIZE_NAMES)
    if engine == "postgresql" and unit in _PG_UNITS and value.lstrip("-").isdigit() and int(value) >= 0:
        return largest_exact_unit(int(value) * _PG_UNITS[unit], _SIZE_NAMES)
    if engine == "postgresql" and unit in _PG_TIME and value.lstrip("-").isdigit():
        return largest_exact_unit(int(value) * _PG_TIME[unit], _TIME_NAMES) if int(value) >= 0 else value
    return value


# PostgreSQL's own spellings, largest first: a value is shown in the largest unit that divides it (as SHOW does).
_SIZE_NAMES = (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("kB", 1024), ("B", 1))
_TIME_NAMES = (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000), ("ms", 1))


_MYSQL_SIZE_RE = re.compile(r"^\d+[KMGT]$")
_MYSQL_SIZE_NAMES = (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024), ("", 1))


def same(recommended: str, live: str) -> bool:
    """True when two values mean the same (sizes and times compared numerically, words case-insensitively)."""
    a, b = recommended.strip().strip("'\""), live.strip().strip("'\"")
    if a.lower() == b.lower():
        return True
    ta, tb = _TIME_RE.match(a), _TIME_RE.match(b)
    if ta and tb:
        return float(ta["num"]) * _PG_TIME[ta["unit"]] == float(tb["num"]) * _PG_TIME[tb["unit"]]
    ba, bb = to_bytes(a), to_bytes(b)
    if ba is not None and bb is not None:
        return math.isclose(ba, bb, rel_tol=1e-9)
    truthy = {"on", "true", "yes", "1"}
    falsy = {"off", "false", "no", "0"}
    return (a.lower() in truthy and b.lower() in truthy) or (a.lower() in falsy and b.lower() in falsy)
