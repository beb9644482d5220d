"""Which PostgreSQL column type changes skip the table rewrite: the safe-cast matrix.

`ALTER TABLE ... ALTER COLUMN ... TYPE` always takes ACCESS EXCLUSIVE. What differs is how long it is held:
- "metadata": the catalog changes and nothing else (the cast is binary-coercible, or a length/precision coercion
  the server's planner support function proves to be a no-op);
- "rebuild_indexes": the heap is kept but every index on the column is rebuilt, because the new type uses a
  different operator class (text ↔ citext, timestamp ↔ timestamptz, integer ↔ oid);
- "rewrite": the table and all of its indexes are rewritten.

Sources: strong_migrations' `change_type_safe?` list (ankane/strong_migrations, PostgreSQL adapter): varchar limit
increase or removal, varchar → text, text → varchar without a limit, citext ↔ text when not indexed, numeric
precision up at the same scale, time/timestamp/interval precision up, timestamp ↔ timestamptz with a UTC session
time zone on 12+, cidr → inet; PostgreSQL's binary-coercible casts (pg_cast.castmethod = 'b') and the planner
support functions varchar_support, numeric_support, timestamp_support, interval_support and varbit_support. Every
row was checked on PostgreSQL 15 by comparing pg_class.relfilenode of the table and of an index on the column
before and after the change (tests/integration/postgres/test_migration_locks.py). Integer widening (integer →
bigint) is NOT binary-coercible: it rewrites.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

TypeChangeResult = Literal["metadata", "rebuild_indexes", "rewrite"]

# pglast spells built-in types by their internal names; map them to one spelling per type.
_ALIASES: Final[dict[str, str]] = {
    "int4": "integer",
    "int": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "bpchar": "char",
    "character": "char",
    "character varying": "varchar",
    "decimal": "numeric",
    "bit varying": "varbit",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time with time zone": "timetz",
    "time without time zone": "time",
}
_STRINGS: Final = frozenset({"varchar", "text"})
_DATETIME_PRECISION: Final = frozenset({"timestamp", "timestamptz", "time", "timetz"})
_MAX_TIME_PRECISION: Final = 6
_INTERVAL_FULL_RANGE: Final = 0x7FFF
_INTERVAL_FULL_PRECISION: Final = 0xFFFF
# interval field bits (src/include/utils/datetime.h): least significant field → rank (0 = SECOND).
_INTERVAL_FIELD_RANK: Final = ((12, 0), (11, 1), (10, 2), (3, 3), (1, 4), (2, 5))
_OID_ALIASES: Final = frozenset({"oid", "regclass", "regtype", "regproc", "regprocedure", "regoper", "regnamespace"})


@dataclass(frozen=True)
class PgType:
    """A type name reduced to what the matrix needs: base name, type modifiers, array or not."""

    name: str
    mods: tuple[int, ...] = ()
    array: bool = False

    @property
    def text(self) -> str:
        mods = f"({','.join(str(m) for m in self.mods)})" if self.mods else ""
        return f"{self.name}{mods}{'[]' if self.array else ''}"


@dataclass(frozen=True)
class CastVerdict:
    result: TypeChangeResult
    reason: str


@lru_cache(maxsize=512)
def parse_type(text: str) -> PgType:
    """Normalise 'character varying(20)', 'timestamp(3) with time zone', 'public.citext', 'int[]' ..."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    cleaned = " ".join(text.strip().lower().split())
    try:
        stmt = parse_sql(f"SELECT NULL::{cleaned}")[0].stmt
    except ParseError:
        return PgType(_ALIASES.get(cleaned, cleaned))
    assert isinstance(stmt, ast.SelectStmt) and stmt.targetList
    cast = stmt.targetList[0].val
    assert isinstance(cast, ast.TypeCast)
    node: Any = cast.typeName
    base = str(node.names[-1].sval).lower()
    mods: list[int] = []
    for mod in node.typmods or ():
        value = getattr(getattr(mod, "val", None), "ival", None)
        if isinstance(value, int):
            mods.append(value)
    return PgType(_ALIASES.get(base, base), tuple(mods), bool(node.arrayBounds))


def type_change(
    old: str,
    new: str,
    *,
    indexed: bool | None = None,
    session_timezone_utc: bool | None = None,
    version: tuple[int, int, int] | None = None,
) -> TypeChangeResult:
    """What changing a column from `old` to `new` costs; unknowns (None) take the conservative answer."""
    return cast_verdict(old, new, indexed=indexed, session_timezone_utc=session_timezone_utc, version=version).result


def cast_verdict(
    old: str,
    new: str,
    *,
    indexed: bool | None = None,
    session_timezone_utc: bool | None = None,
    version: tuple[int, int, int] | None = None,
) -> CastVerdict:
    """`type_change` with the reason, for rationales. `indexed`/`session_timezone_utc` None = assume the worst."""
    before, after = parse_type(old), parse_type(new)
    if before == after:
        return CastVerdict("metadata", "the type does not change")
    if before.array or after.array:
        return CastVerdict("rewrite", "array types are converted element by element (ArrayCoerceExpr): a rewrite")
    verdict = _same_family(before, after)
    if verdict is not None:
        return verdict
    pair = (before.name, after.name)
    if pair in (("varchar", "text"), ("text", "varchar")) and (after.name == "text" or not after.mods):
        return CastVerdict("metadata", f"{before.text} → {after.text} is binary-coercible")
    if pair == ("cidr", "inet"):
        return CastVerdict("metadata", "cidr → inet is binary-coercible")
    if before.name in _OID_ALIASES and after.name in _OID_ALIASES:
        return CastVerdict("metadata", f"{before.name} → {after.name} is binary-coercible (both are oids)")
    if pair == ("xml", "text"):
        return CastVerdict("metadata", "xml → text is binary-coercible")
    if "citext" in pair and {before.name, after.name} <= {"citext", "text", "varchar"}:
        if after.name == "varchar" and after.mods:
            return CastVerdict("rewrite", f"citext → {after.text} checks every value's length: a rewrite")
        return _index_rebuild(indexed, f"{before.text} → {after.text} keeps the heap but changes the operator class")
    if {before.name, after.name} == {"integer", "oid"}:
        return _index_rebuild(indexed, f"{before.name} → {after.name} is binary-coercible; the opclass changes")
    if {before.name, after.name} == {"timestamp", "timestamptz"}:
        return _timestamp_zone(before, after, indexed, session_timezone_utc, version)
    return CastVerdict("rewrite", f"{before.text} → {after.text} is not binary-coercible: the table is rewritten")


def _same_family(before: PgType, after: PgType) -> CastVerdict | None:
    """Length/precision changes within one type, decided like the server's planner support functions."""
    if before.name != after.name:
        return None
    name = before.name
    if name in ("varchar", "varbit"):
        if not after.mods or (before.mods and after.mods[0] >= before.mods[0]):
            return CastVerdict("metadata", f"{name} length limit raised or removed: no rewrite")
        return CastVerdict("rewrite", f"{name} length limit lowered or added: every value is checked and rewritten")
    if name == "numeric":
        if not after.mods:
            return CastVerdict("metadata", "numeric → unconstrained numeric: no rewrite")
        if before.mods and _numeric_scale(before) == _numeric_scale(after) and after.mods[0] >= before.mods[0]:
            return CastVerdict("metadata", "numeric precision raised at the same scale: no rewrite")
        return CastVerdict("rewrite", "numeric scale changed, precision lowered or a limit added: a rewrite")
    if name in _DATETIME_PRECISION:
        old_p = before.mods[0] if before.mods else _MAX_TIME_PRECISION
        if not after.mods or after.mods[0] >= old_p:
            return CastVerdict("metadata", f"{name} fractional-second precision raised or kept: no rewrite")
        return CastVerdict("rewrite", f"{name} precision lowered: every value is rounded and rewritten")
    if name == "interval":
        return _interval(before, after)
    return CastVerdict("rewrite", f"{before.text} → {after.text}: a length or precision change that rewrites")


def _numeric_scale(t: PgType) -> int:
    return t.mods[1] if len(t.mods) > 1 else 0


def _interval_parts(t: PgType) -> tuple[int, int]:
    """(rank of the least field, precision) — rank 0 = SECOND, as intervaltypmodleastfield."""
    mask = t.mods[0] if t.mods else _INTERVAL_FULL_RANGE
    precision = t.mods[1] if len(t.mods) > 1 else _INTERVAL_FULL_PRECISION
    for bit, rank in _INTERVAL_FIELD_RANK:
        if mask & (1 << bit):
            return rank, precision
    return 0, precision


def _interval(before: PgType, after: PgType) -> CastVerdict:
    old_least, old_p = _interval_parts(before)
    new_least, new_p = _interval_parts(after)
    if not after.mods or (new_least <= old_least and (old_least > 0 or new_p >= old_p)):
        return CastVerdict("metadata", "interval fields kept or widened and precision raised: no rewrite")
    return CastVerdict("rewrite", "interval fields narrowed or precision lowered: every value is rewritten")


def _index_rebuild(indexed: bool | None, why: str) -> CastVerdict:
    if indexed is False:
        return CastVerdict("metadata", f"{why}; the column has no index, so nothing is rebuilt")
    return CastVerdict("rebuild_indexes", f"{why}: indexes on the column are rebuilt under ACCESS EXCLUSIVE")


def _timestamp_zone(
    before: PgType,
    after: PgType,
    indexed: bool | None,
    session_timezone_utc: bool | None,
    version: tuple[int, int, int] | None,
) -> CastVerdict:
    if version is not None and version < (12, 0, 0):
        return CastVerdict("rewrite", "timestamp ↔ timestamptz rewrites the table before PostgreSQL 12")
    if not session_timezone_utc:
        return CastVerdict(
            "rewrite", "timestamp ↔ timestamptz rewrites unless the session runs with SET timezone = 'UTC' (12+)"
        )
    old_p = before.mods[0] if before.mods else _MAX_TIME_PRECISION
    if after.mods and after.mods[0] < old_p:
        return CastVerdict("rewrite", "timestamp precision lowered: every value is rewritten")
    return _index_rebuild(indexed, "timestamp ↔ timestamptz with a UTC session (12+) keeps the heap")
