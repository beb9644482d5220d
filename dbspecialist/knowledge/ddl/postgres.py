"""PostgreSQL DDL → `Catalog`, through pglast (libpg_query: PostgreSQL's own grammar).

`parse_postgres(ddl)` reads `pg_dump --schema-only` output, Rails `structure.sql` and hand-written
DDL. It never raises: text that PostgreSQL's grammar rejects becomes a `ParseWarning` with the line
where that statement starts, and the statements after it are still read. Valid statements that the
catalog does not model (functions, triggers, grants, policies, SET, ...) are skipped silently.

What ends up where, so that a rule sees the same thing it would see from the live adapter:

- Types are spelled as `format_type()` prints them (`integer`, `character varying(255)`,
  `timestamp without time zone`, `text[]`); user types drop a `public.` prefix, as they would with
  the default `search_path`. `serial`/`bigserial`/`smallserial` become the integer type, NOT NULL, a
  `nextval('<table>_<column>_seq'::regclass)` default and an owned `Sequence`, as pg_dump shows them.
- Expressions (defaults, CHECK, generated columns, index expressions and WHERE predicates) keep their
  source text, which in pg_dump output is the server's own `pg_get_expr()` spelling.
- A PRIMARY KEY or UNIQUE constraint also yields its `Index` (origin `primary_key` /
  `unique_constraint`), named as PostgreSQL would name it when the DDL gives no name.
- `Table.options`: reloptions (`fillfactor` → `"70"`), `persistence: "unlogged"`,
  `row_security: "enabled"`, `partition_bound`, `inherits` (comma-separated qualified parents),
  `foreign_server`, and for each column of an enum type `enum:<column>` → the enum's labels,
  comma-separated (the catalog model has no enum field; a rule can use this to treat such a column as
  constrained). The enum and domain definitions themselves are in `ParsedSchema.enums` / `.domains`.
- Columns of a child created with INHERITS or PARTITION OF include the parent's columns first.
- Offline there are no statistics: row estimates, sizes and scans stay `None`. A sequence's
  `current_value` is known only when the dump contains `SELECT pg_catalog.setval(...)`.
"""

from __future__ import annotations

import bisect
import gc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from dbspecialist.adapters.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    Extension,
    FKAction,
    ForeignKey,
    Index,
    PrimaryKey,
    Sequence,
    Table,
    TableKind,
    UniqueConstraint,
)
from dbspecialist.knowledge.ddl.model import ParsedSchema, ParseWarning

DEFAULT_SCHEMA: Final = "public"
STATEMENT_START_CHARS: Final = 60

# format_type() spellings of the built-in types the grammar names by their internal name.
_TYPE_NAMES: Final[dict[str, str]] = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "character varying",
    "bpchar": "character",
    "varbit": "bit varying",
    "timestamptz": "timestamp with time zone",
    "timetz": "time with time zone",
    "decimal": "numeric",
    "int": "integer",
    "integer": "integer",
    "smallint": "smallint",
    "bigint": "bigint",
    "real": "real",
    "boolean": "boolean",
}
# Types whose precision goes between the name and "with[out] time zone".
_ZONED: Final[dict[str, str]] = {
    "timestamp": "timestamp{} without time zone",
    "timestamptz": "timestamp{} with time zone",
    "time": "time{} without time zone",
    "timetz": "time{} with time zone",
}
_SERIALS: Final[dict[str, str]] = {
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
    "smallserial": "smallint",
    "serial2": "smallint",
}
# Default MAXVALUE of a sequence by its data type (CREATE SEQUENCE docs).
_SEQUENCE_MAX: Final[dict[str, int]] = {
    "smallint": 32_767,
    "integer": 2_147_483_647,
    "bigint": 9_223_372_036_854_775_807,
}
_FK_ACTIONS: Final[dict[str, FKAction]] = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_PARTITION_STRATEGIES: Final[dict[str, str]] = {"r": "RANGE", "l": "LIST", "h": "HASH"}
_TABLE_OBJECTS: Final = frozenset(
    {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE"}
)
_LIKE_DEFAULTS: Final = 1 << 3  # CREATE_TABLE_LIKE_DEFAULTS in PostgreSQL's parsenodes.h
_SURROGATES: Final = re.compile("[\ud800-\udfff]")

# The fallback splitter: quoted text, comments and dollar quotes are skipped whole; `;` ends a
# statement unless it sits inside a SQL-standard function body (BEGIN ATOMIC ... END).
_SPLIT_TOKENS: Final = re.compile(
    r"""(?P<estr>[eE]'(?:[^'\\]|\\.|'')*(?:'|\Z))
      | (?P<str>'(?:[^']|'')*(?:'|\Z))
      | (?P<ident>"(?:[^"]|"")*(?:"|\Z))
      | (?P<line>--[^\n]*)
      | (?P<block>/\*)
      | (?P<dollar>\$(?:[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$)
      | (?P<semi>;)
      | (?P<atomic>\bBEGIN\s+ATOMIC\b)
      | (?P<case>\bCASE\b)
      | (?P<end>\bEND\b)
      | (?P<word>[A-Za-z_0-9$\x80-\uffff]+)""",
    re.VERBOSE | re.IGNORECASE,
)
_LEADING_NOISE: Final = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


def parse_postgres(ddl: str) -> ParsedSchema:
    """Parse PostgreSQL DDL into the shared catalog; unparseable statements become warnings."""
    try:
        return _Builder(ddl).run()
    except Exception as exc:  # the last line of defence: a review must never die on its input
        warning = ParseWarning(
            line=1,
            statement_start=" ".join(ddl[:120].split())[:STATEMENT_START_CHARS],
            message=f"the DDL could not be read ({type(exc).__name__}: {exc})",
        )
        return ParsedSchema(catalog=Catalog(engine="postgresql", source="ddl"), warnings=[warning])


# --------------------------------------------------------------------------- working state


@dataclass
class _Col:
    name: str
    data_type: str
    line: int | None
    nullable: bool = True
    default: str | None = None
    identity: str | None = None
    generated: str | None = None
    generated_kind: str | None = None
    collation: str | None = None
    comment: str | None = None


@dataclass
class _Tab:
    schema: str
    name: str
    kind: TableKind
    line: int
    columns: dict[str, _Col] = field(default_factory=dict)
    primary_key: PrimaryKey | None = None
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[UniqueConstraint] = field(default_factory=list)
    checks: list[CheckConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    inherits: list[str] = field(default_factory=list)
    partition_of: str | None = None
    partition_key: str | None = None
    definition: str | None = None
    comment: str | None = None
    only_indexes: set[str] = field(default_factory=set)  # CREATE INDEX ... ON ONLY: not cascaded

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class _Seq:
    schema: str
    name: str
    line: int | None
    data_type: str | None = "bigint"
    max_value: int | None = None
    current_value: int | None = None
    owned_by: str | None = None


@dataclass
class _Stmt:
    """The statement being handled: absolute start/end in the text and the offset of node locations."""

    start: int
    end: int
    base: int
    tokens: list[tuple[int, int, str]] | None = None


class _Unsupported(Exception):
    """A statement is valid but uses a shape this model cannot represent; skip it."""


# --------------------------------------------------------------------------- the builder


class _Builder:
    def __init__(self, ddl: str) -> None:
        text = ddl.replace("\x00", " ")
        self.text = _SURROGATES.sub("\ufffd", text)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        self.tables: dict[tuple[str, str], _Tab] = {}
        self.sequences: dict[tuple[str, str], _Seq] = {}
        self.enums: dict[str, list[str]] = {}
        self.domains: dict[str, str] = {}
        self.extensions: dict[str, Extension] = {}
        self.schemas: list[str] = [DEFAULT_SCHEMA]
        self.warnings: list[ParseWarning] = []
        self.statements = 0
        self.stmt = _Stmt(0, 0, 0)
        self.handlers: dict[str, Callable[[Any], object]] = {
            "CreateStmt": self._create_table,
            "CreateForeignTableStmt": self._create_foreign_table,
            "AlterTableStmt": self._alter_table,
            "IndexStmt": self._create_index,
            "ViewStmt": self._create_view,
            "CreateTableAsStmt": self._create_table_as,
            "CreateSeqStmt": self._create_sequence,
            "AlterSeqStmt": self._alter_sequence,
            "CommentStmt": self._comment,
            "CreateEnumStmt": self._create_enum,
            "AlterEnumStmt": self._alter_enum,
            "CreateDomainStmt": self._create_domain,
            "CreateExtensionStmt": self._create_extension,
            "CreateSchemaStmt": self._create_schema,
            "SelectStmt": self._select,
            "RenameStmt": self._rename,
            "DropStmt": self._drop,
        }

    # ----------------------------------------------------------------- driving

    def run(self) -> ParsedSchema:
        from pglast import parser

        # pglast builds one Python object per AST node (millions for a 10,000-table dump) and none of
        # them form cycles; pausing the cyclic collector meanwhile nearly halves the time on big dumps.
        collecting = gc.isenabled()
        gc.disable()
        try:
            try:
                raw = parser.parse_sql(self.text)
            except parser.ParseError:
                self._run_per_statement(parser)
            else:
                for stmt in raw:
                    self._handle(stmt, base=0, limit=len(self.text))
                del raw
            return self._result()
        finally:
            if collecting:
                gc.enable()

    def _run_per_statement(self, parser: Any) -> None:
        for start, end in _split(self.text):
            chunk = self.text[start:end]
            try:
                raw = parser.parse_sql(chunk)
            except parser.ParseError as exc:
                self.statements += 1
                message = str(exc.args[0]) if exc.args else "syntax error"
                where = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
                first = _LEADING_NOISE.match(self.text, start).end()  # type: ignore[union-attr]
                if where is not None and 0 <= where < len(chunk) and self._line(start + where) != self._line(first):
                    message += f" (line {self._line(start + where)})"
                self._warn(start, message, end)
                continue
            except Exception as exc:  # pragma: no cover - libpg_query is robust; belt and braces
                self.statements += 1
                self._warn(start, f"parser failure: {exc}", end)
                continue
            for stmt in raw:
                self._handle(stmt, base=start, limit=end)

    def _handle(self, raw: Any, base: int, limit: int) -> None:
        self.statements += 1
        start = base + (raw.stmt_location or 0)
        end = start + raw.stmt_len if raw.stmt_len else limit
        start = _LEADING_NOISE.match(self.text, start, end).end()  # type: ignore[union-attr]
        self.stmt = _Stmt(start, end, base)
        handler = self.handlers.get(type(raw.stmt).__name__)
        if handler is None:
            return
        try:
            handler(raw.stmt)
        except _Unsupported:
            return
        except Exception as exc:  # a shape we did not foresee must not end the review
            self._warn(start, f"statement parsed but not understood ({type(exc).__name__}: {exc})", end)

    def _warn(self, pos: int, message: str, end: int | None = None) -> None:
        pos = _LEADING_NOISE.match(self.text, pos).end()  # type: ignore[union-attr]
        stop = pos + STATEMENT_START_CHARS * 2 if end is None else min(end, pos + STATEMENT_START_CHARS * 2)
        head = " ".join(self.text[pos:stop].split())[:STATEMENT_START_CHARS]
        self.warnings.append(ParseWarning(line=self._line(pos), statement_start=head, message=message))

    def _line(self, pos: int) -> int:
        return bisect.bisect_right(self.line_starts, pos)

    def _loc_line(self, location: int | None) -> int:
        if location is None or location < 0:
            return self._line(self.stmt.start)
        return self._line(self.stmt.base + location)

    # ----------------------------------------------------------------- source text helpers

    def _tokens(self) -> list[tuple[int, int, str]]:
        """Scanner tokens of the current statement: (absolute start, absolute end exclusive, name)."""
        if self.stmt.tokens is None:
            from pglast import parser

            start = self.stmt.start
            try:
                scanned = parser.scan(self.text[start : self.stmt.end])
            except Exception:
                scanned = []
            self.stmt.tokens = [(start + t.start, start + t.end + 1, t.name) for t in scanned]
        return self.stmt.tokens

    def _token_index(self, pos: int) -> int:
        tokens = self._tokens()
        return bisect.bisect_left(tokens, (pos, -1, ""))

    def _expr_from(self, index: int, stop_words: frozenset[str] = frozenset()) -> str | None:
        """Source text of an expression starting at token `index`, up to a depth-0 `,` `)` `;` or stop word."""
        tokens = self._tokens()
        depth = 0
        last = None
        for i in range(index, len(tokens)):
            name = tokens[i][2]
            if name in ("ASCII_40", "ASCII_91"):
                depth += 1
            elif name in ("ASCII_41", "ASCII_93"):
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (name in ("ASCII_44", "ASCII_59") or name in stop_words):
                break
            last = i
        if last is None:
            return None
        return self.text[tokens[index][0] : tokens[last][1]].strip()

    def _paren_group(self, index: int) -> tuple[int, int] | None:
        """Token indexes of the first `(` at or after `index` and its matching `)`."""
        tokens = self._tokens()
        i = index
        while i < len(tokens) and tokens[i][2] != "ASCII_40":
            i += 1
        if i >= len(tokens):
            return None
        depth = 0
        for j in range(i, len(tokens)):
            name = tokens[j][2]
            if name == "ASCII_40":
                depth += 1
            elif name == "ASCII_41":
                depth -= 1
                if depth == 0:
                    return i, j
        return None

    def _inside_parens(self, location: int | None) -> str | None:
        """Text inside the first parenthesised group after a node's location (CHECK (...), AS (...))."""
        if location is None or location < 0:
            return None
        tokens = self._tokens()
        group = self._paren_group(self._token_index(self.stmt.base + location))
        if group is None:
            return None
        return self.text[tokens[group[0]][1] : tokens[group[1]][0]].strip()

    def _after_keyword(
        self, location: int | None, keyword: str, stop_words: frozenset[str] = frozenset()
    ) -> str | None:
        """The expression after the first `keyword` token at or after `location`."""
        tokens = self._tokens()
        start = self.stmt.start if location is None or location < 0 else self.stmt.base + location
        for i in range(self._token_index(start), len(tokens)):
            if tokens[i][2] == keyword:
                return self._expr_from(i + 1, stop_words)
        return None

    def _deparse(self, node: Any) -> str | None:
        from pglast.stream import RawStream

        try:
            return str(RawStream()(node))
        except Exception:
            return None

    def _rest_after(self, keyword: str, skip: int = 0) -> str | None:
        """Text after the (skip+1)-th depth-0 `keyword` token to the end of the statement."""
        tokens = self._tokens()
        depth = 0
        seen = 0
        for i, (_, end, name) in enumerate(tokens):
            if name == "ASCII_40":
                depth += 1
            elif name == "ASCII_41":
                depth -= 1
            elif depth == 0 and name == keyword:
                if seen == skip:
                    stop = tokens[-1][1] if tokens[-1][2] != "ASCII_59" else tokens[-1][0]
                    if i + 1 >= len(tokens):
                        return None
                    return self.text[tokens[i + 1][0] if i + 1 < len(tokens) else end : stop].strip() or None
                seen += 1
        return None

    # ----------------------------------------------------------------- names and types

    def _relation(self, rangevar: Any) -> tuple[str, str]:
        return (rangevar.schemaname or DEFAULT_SCHEMA, rangevar.relname)

    def _table(self, rangevar: Any) -> _Tab | None:
        return self.tables.get(self._relation(rangevar))

    def _type(self, type_name: Any) -> str:
        names = [n.sval for n in type_name.names]
        mods = [_typmod(m) for m in (type_name.typmods or ())]
        base = names[-1]
        qualified = names[0] in ("pg_catalog",) or len(names) == 1
        if qualified and base in _ZONED:
            text = _ZONED[base].format(f"({mods[0]})" if mods else "")
        elif qualified and base == "interval":
            text = f"interval({mods[-1]})" if len(mods) == 2 else "interval"
        else:
            if qualified:
                spelled = _TYPE_NAMES.get(base, base)
            elif names[0] == DEFAULT_SCHEMA and len(names) == 2:
                spelled = base
            else:
                spelled = ".".join(names)
            text = f"{spelled}({','.join(mods)})" if mods else spelled
        if type_name.arrayBounds:
            text += "[]"
        return text

    # ----------------------------------------------------------------- CREATE TABLE

    def _create_foreign_table(self, node: Any) -> None:
        table = self._create_table(node.base, kind="foreign_table")
        if table is not None and node.servername:
            table.options["foreign_server"] = node.servername

    def _create_table(self, node: Any, kind: TableKind = "table") -> _Tab | None:
        schema, name = self._relation(node.relation)
        if node.if_not_exists and (schema, name) in self.tables:
            return None
        table = _Tab(schema=schema, name=name, kind=kind, line=self._line(self.stmt.start))
        self._note_schema(schema)
        if node.relation.relpersistence == "u":
            table.options["persistence"] = "unlogged"
        elif node.relation.relpersistence == "t":
            table.options["persistence"] = "temporary"
        parents = [_qualified(self._relation(r)) for r in (node.inhRelations or ())]
        if node.partbound is not None and parents:
            table.partition_of = parents[0]
            bound = self._deparse(node.partbound)
            if bound:
                table.options["partition_bound"] = bound
        elif parents:
            table.inherits = parents
            table.options["inherits"] = ",".join(parents)
        if node.partspec is not None:
            table.kind = "partitioned_table"
            table.partition_key = self._partition_key(node.partspec)
        for opt in node.options or ():
            table.options[opt.defname] = _defelem_value(opt.arg)
        self.tables[(schema, name)] = table
        for element in node.tableElts or ():
            kind_name = type(element).__name__
            if kind_name == "ColumnDef":
                self._add_column(table, element)
            elif kind_name == "Constraint":
                self._add_constraint(table, element, column=None)
            elif kind_name == "TableLikeClause":
                self._copy_like(table, element)
        return table

    def _copy_like(self, table: _Tab, node: Any) -> None:
        """LIKE source: names, types and NOT NULL always; defaults with INCLUDING DEFAULTS (or ALL)."""
        source = self._table(node.relation)
        if source is None:
            return
        with_defaults = bool(int(node.options or 0) & _LIKE_DEFAULTS)
        line = self._loc_line(node.relation.location)
        for col in source.columns.values():
            table.columns[col.name] = _Col(
                col.name,
                col.data_type,
                line,
                nullable=col.nullable,
                default=col.default if with_defaults else None,
                collation=col.collation,
            )

    def _partition_key(self, spec: Any) -> str:
        strategy = spec.strategy
        letter = strategy.value if hasattr(strategy, "value") else str(strategy)
        parts = []
        for param in spec.partParams or ():
            if param.name:
                parts.append(param.name)
            else:
                parts.append(self._deparse(param.expr) or "?")
        inner = self._inside_parens(spec.location)
        return f"{_PARTITION_STRATEGIES.get(str(letter), str(letter))} ({inner or ', '.join(parts)})"

    def _add_column(self, table: _Tab, node: Any) -> None:
        line = self._loc_line(node.location)
        if node.typeName is None:  # a column of PARTITION OF / OF type that only adds constraints
            col = table.columns.get(node.colname) or _Col(node.colname, "unknown", line)
        else:
            col = _Col(node.colname, self._type(node.typeName), line)
            names = [n.sval for n in node.typeName.names]
            serial = _SERIALS.get(names[-1]) if len(names) == 1 and not node.typeName.arrayBounds else None
            if serial is not None:
                self._make_serial(table, col, serial)
        if node.is_not_null:
            col.nullable = False
        if node.collClause is not None:
            col.collation = node.collClause.collname[-1].sval
        table.columns[col.name] = col
        for constraint in node.constraints or ():
            self._add_constraint(table, constraint, column=col)

    def _make_serial(self, table: _Tab, col: _Col, data_type: str) -> None:
        col.data_type = data_type
        col.nullable = False
        seq_name = f"{table.name}_{col.name}_seq"
        shown = seq_name if table.schema == DEFAULT_SCHEMA else f"{table.schema}.{seq_name}"
        col.default = f"nextval('{shown}'::regclass)"
        self.sequences[(table.schema, seq_name)] = _Seq(
            schema=table.schema,
            name=seq_name,
            line=col.line,
            data_type=data_type,
            max_value=_SEQUENCE_MAX[data_type],
            owned_by=f"{table.qualified}.{col.name}",
        )

    def _add_constraint(self, table: _Tab, node: Any, column: _Col | None) -> None:
        contype = node.contype.name
        if contype == "CONSTR_NOTNULL" and column is not None:
            column.nullable = False
        elif contype == "CONSTR_NULL" and column is not None:
            column.nullable = True
        elif contype == "CONSTR_DEFAULT" and column is not None:
            column.default = self._after_keyword(node.location, "DEFAULT", _COLUMN_CONSTRAINT_WORDS) or self._deparse(
                node.raw_expr
            )
        elif contype == "CONSTR_IDENTITY" and column is not None:
            self._make_identity(table, column, node)
        elif contype == "CONSTR_GENERATED" and column is not None:
            column.generated = self._inside_parens(node.location) or self._deparse(node.raw_expr)
            # 's' or 'v' (VIRTUAL, PostgreSQL 18); parsers before 18's grammar have no field: always stored then.
            column.generated_kind = "virtual" if getattr(node, "generated_kind", "s") == "v" else "stored"
        elif contype == "CONSTR_CHECK":
            self._add_check(table, node, column)
        elif contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
            self._add_key(table, node, column)
        elif contype == "CONSTR_FOREIGN":
            self._add_foreign_key(table, node, column)
        elif contype == "CONSTR_EXCLUSION":
            self._add_exclusion(table, node)
        elif contype in ("CONSTR_ATTR_DEFERRABLE", "CONSTR_ATTR_NOT_DEFERRABLE") and table.foreign_keys:
            deferrable = contype == "CONSTR_ATTR_DEFERRABLE"
            table.foreign_keys[-1] = table.foreign_keys[-1].model_copy(update={"deferrable": deferrable})

    def _stmt_line(self) -> int:
        return self._line(self.stmt.start)

    def _add_check(self, table: _Tab, node: Any, column: _Col | None) -> None:
        expression = self._inside_parens(node.location) or self._deparse(node.raw_expr) or "?"
        name = node.conname or (f"{table.name}_{column.name}_check" if column else f"{table.name}_check")
        table.checks.append(CheckConstraint(name=name, expression=expression, validated=bool(node.initially_valid)))

    def _add_key(self, table: _Tab, node: Any, column: _Col | None) -> None:
        primary = node.contype.name == "CONSTR_PRIMARY"
        columns = [column.name] if column is not None else [k.sval for k in (node.keys or ())]
        include = [k.sval for k in (node.including or ())]
        line = self._key_line(node)
        if not columns and node.indexname:  # ... PRIMARY KEY USING INDEX existing_index
            existing = next((i for i in table.indexes if i.name == node.indexname), None)
            if existing is None:
                return
            table.indexes.remove(existing)
            columns = [c.removesuffix(" DESC") for c in existing.columns]
            include = list(existing.include)
        if primary:
            name = node.conname or f"{table.name}_pkey"
            table.primary_key = PrimaryKey(name=name, columns=columns)
            for col_name in columns:
                if col_name in table.columns:
                    table.columns[col_name].nullable = False
        else:
            name = node.conname or _truncate(f"{table.name}_{'_'.join(columns)}_key")
            table.uniques.append(UniqueConstraint(name=name, columns=columns))
        table.indexes.append(
            Index(
                name=name,
                columns=columns,
                unique=True,
                primary=primary,
                method=node.access_method or "btree",
                include=include,
                origin="primary_key" if primary else "unique_constraint",
                source_line=line,
            )
        )

    def _key_line(self, node: Any) -> int:
        """Inline (CREATE TABLE) constraints point at their own line; ALTER TABLE ones at the statement."""
        if self._in_alter:
            return self._stmt_line()
        return self._loc_line(node.location)

    _in_alter = False

    def _add_foreign_key(self, table: _Tab, node: Any, column: _Col | None) -> None:
        columns = [column.name] if column is not None else [a.sval for a in (node.fk_attrs or ())]
        ref_schema, ref_table = self._relation(node.pktable)
        name = node.conname or _truncate(f"{table.name}_{'_'.join(columns)}_fkey")
        table.foreign_keys.append(
            ForeignKey(
                name=name,
                columns=columns,
                ref_schema=ref_schema,
                ref_table=ref_table,
                ref_columns=[a.sval for a in (node.pk_attrs or ())],
                on_delete=_FK_ACTIONS.get(node.fk_del_action, "no action"),
                on_update=_FK_ACTIONS.get(node.fk_upd_action, "no action"),
                deferrable=bool(node.deferrable),
                validated=not node.skip_validation and bool(node.initially_valid),
                source_line=self._key_line(node),
            )
        )

    def _add_exclusion(self, table: _Tab, node: Any) -> None:
        columns = []
        for pair in node.exclusions or ():
            elem = pair[0]
            columns.append(elem.name or self._deparse(elem.expr) or "?")
        name = node.conname or _truncate(f"{table.name}_{'_'.join(columns)}_excl")
        table.indexes.append(
            Index(
                name=name,
                columns=columns,
                method=node.access_method or "gist",
                predicate=self._deparse(node.where_clause) if node.where_clause is not None else None,
                source_line=self._key_line(node),
            )
        )

    def _make_identity(self, table: _Tab, column: _Col, node: Any) -> None:
        column.identity = "always" if node.generated_when == "a" else "by default"
        column.nullable = False
        seq_schema, seq_name = table.schema, f"{table.name}_{column.name}_seq"
        seq = _Seq(schema=seq_schema, name=seq_name, line=self._key_line(node), data_type=column.data_type)
        for opt in node.options or ():
            if opt.defname == "sequence_name":
                parts = [s.sval for s in opt.arg]
                seq.schema, seq.name = (parts[-2] if len(parts) > 1 else table.schema), parts[-1]
            else:
                _apply_sequence_option(seq, opt, self._type)
        if seq.max_value is None:
            seq.max_value = _SEQUENCE_MAX.get(seq.data_type or "bigint")
        seq.owned_by = f"{table.qualified}.{column.name}"
        self.sequences[(seq.schema, seq.name)] = seq

    # ----------------------------------------------------------------- ALTER TABLE

    def _alter_table(self, node: Any) -> None:
        objtype = node.objtype.name if hasattr(node.objtype, "name") else str(node.objtype)
        if objtype not in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW"):
            return
        table = self._table(node.relation)
        if table is None:
            return
        self._in_alter = True
        defaults_seen = 0
        try:
            for cmd in node.cmds:
                sub = cmd.subtype.name
                if sub == "AT_ColumnDefault":
                    self._alter_default(table, cmd, defaults_seen)
                    defaults_seen += 1
                else:
                    self._alter_command(table, sub, cmd)
        finally:
            self._in_alter = False

    def _alter_default(self, table: _Tab, cmd: Any, nth: int) -> None:
        col = table.columns.get(cmd.name)
        if col is None:
            return
        if cmd.def_ is None:
            col.default = None
            return
        col.default = self._nth_set_default(nth) or self._deparse(cmd.def_)

    def _nth_set_default(self, nth: int) -> str | None:
        tokens = self._tokens()
        seen = 0
        for i in range(len(tokens) - 1):
            if tokens[i][2] == "SET" and tokens[i + 1][2] == "DEFAULT":
                if seen == nth:
                    return self._expr_from(i + 2)
                seen += 1
        return None

    def _alter_command(self, table: _Tab, sub: str, cmd: Any) -> None:
        col = table.columns.get(cmd.name) if cmd.name else None
        if sub == "AT_AddConstraint":
            self._add_constraint(table, cmd.def_, column=None)
        elif sub == "AT_AddColumn":
            if not (cmd.missing_ok and cmd.def_.colname in table.columns):
                self._add_column(table, cmd.def_)
        elif sub == "AT_DropColumn" and col is not None:
            del table.columns[col.name]
        elif sub == "AT_AlterColumnType" and col is not None and cmd.def_.typeName is not None:
            col.data_type = self._type(cmd.def_.typeName)
        elif sub == "AT_SetNotNull" and col is not None:
            col.nullable = False
        elif sub == "AT_DropNotNull" and col is not None:
            col.nullable = True
        elif sub == "AT_AddIdentity" and col is not None:
            self._make_identity(table, col, cmd.def_)
        elif sub == "AT_DropIdentity" and col is not None:
            col.identity = None
        elif sub == "AT_AttachPartition":
            child = self._table(cmd.def_.name)
            if child is not None:
                child.partition_of = table.qualified
                bound = self._deparse(cmd.def_.bound)
                if bound:
                    child.options["partition_bound"] = bound
        elif sub == "AT_DetachPartition":
            child = self._table(cmd.def_.name)
            if child is not None:
                child.partition_of = None
                child.options.pop("partition_bound", None)
        elif sub == "AT_EnableRowSecurity":
            table.options["row_security"] = "enabled"
        elif sub == "AT_DisableRowSecurity":
            table.options.pop("row_security", None)
        elif sub == "AT_SetRelOptions":
            for opt in cmd.def_ or ():
                table.options[opt.defname] = _defelem_value(opt.arg)
        elif sub == "AT_ResetRelOptions":
            for opt in cmd.def_ or ():
                table.options.pop(opt.defname, None)
        elif sub == "AT_SetUnLogged":
            table.options["persistence"] = "unlogged"
        elif sub == "AT_SetLogged":
            table.options.pop("persistence", None)
        elif sub == "AT_AddInherit":
            parent = _qualified(self._relation(cmd.def_))
            table.inherits.append(parent)
            table.options["inherits"] = ",".join(table.inherits)
        elif sub == "AT_ValidateConstraint":
            self._validate(table, cmd.name)
        elif sub == "AT_DropConstraint":
            self._drop_constraint(table, cmd.name)

    def _validate(self, table: _Tab, name: str) -> None:
        table.foreign_keys = [
            fk.model_copy(update={"validated": True}) if fk.name == name else fk for fk in table.foreign_keys
        ]
        table.checks = [ck.model_copy(update={"validated": True}) if ck.name == name else ck for ck in table.checks]

    def _drop_constraint(self, table: _Tab, name: str) -> None:
        if table.primary_key is not None and table.primary_key.name == name:
            table.primary_key = None
        table.foreign_keys = [fk for fk in table.foreign_keys if fk.name != name]
        table.checks = [ck for ck in table.checks if ck.name != name]
        table.uniques = [uq for uq in table.uniques if uq.name != name]
        table.indexes = [ix for ix in table.indexes if not (ix.name == name and ix.origin != "index")]

    # ----------------------------------------------------------------- indexes, views, sequences

    def _create_index(self, node: Any) -> None:
        table = self._table(node.relation)
        if table is None:
            return
        elements = self._index_element_texts(node)
        columns: list[str] = []
        for i, elem in enumerate(node.indexParams):
            text = elem.name or (elements[i] if elements else None) or self._deparse(elem.expr) or "?"
            if elem.ordering.name == "SORTBY_DESC":
                text += " DESC"
            columns.append(text)
        include = [e.name or self._deparse(e.expr) or "?" for e in (node.indexIncludingParams or ())]
        if node.idxname:
            name = node.idxname
        else:
            stem = "_".join(e.name or "expr" for e in node.indexParams)
            name = _truncate(f"{table.name}_{stem}_idx")
        if node.if_not_exists and any(i.name == name for i in table.indexes):
            return
        if not node.relation.inh:
            table.only_indexes.add(name)
        predicate = None
        if node.whereClause is not None:
            predicate = self._rest_after("WHERE") or self._deparse(node.whereClause)
        table.indexes.append(
            Index(
                name=name,
                columns=columns,
                unique=bool(node.unique),
                method=node.accessMethod or "btree",
                predicate=predicate,
                include=include,
                source_line=self._stmt_line(),
            )
        )

    def _index_element_texts(self, node: Any) -> list[str | None] | None:
        """Source text of each key element's expression, or None when the layout is not as expected."""
        if all(e.name for e in node.indexParams):
            return None
        tokens = self._tokens()
        group = self._paren_group(self._token_index(self.stmt.base + node.relation.location))
        if group is None:
            return None
        texts: list[str | None] = []
        i = group[0] + 1
        while i < group[1]:
            expr_end = i
            if tokens[i][2] == "ASCII_40":
                inner = self._paren_group(i)
                expr_end = inner[1] if inner else i
            else:
                j = i
                while j < group[1] and tokens[j][2] not in ("ASCII_40", "ASCII_44"):
                    j += 1
                if j < group[1] and tokens[j][2] == "ASCII_40":
                    inner = self._paren_group(j)
                    expr_end = inner[1] if inner else j
                else:
                    expr_end = j - 1
            texts.append(self.text[tokens[i][0] : tokens[expr_end][1]])
            depth = 0
            k = expr_end + 1
            while k < group[1] and not (depth == 0 and tokens[k][2] == "ASCII_44"):
                if tokens[k][2] == "ASCII_40":
                    depth += 1
                elif tokens[k][2] == "ASCII_41":
                    depth -= 1
                k += 1
            i = k + 1
        if len(texts) != len(node.indexParams):
            return None
        return texts

    def _create_view(self, node: Any) -> None:
        schema, name = self._relation(node.view)
        self._note_schema(schema)
        table = _Tab(schema=schema, name=name, kind="view", line=self._stmt_line())
        table.definition = self._rest_after("AS") or self._deparse(node.query)
        self.tables[(schema, name)] = table

    def _create_table_as(self, node: Any) -> None:
        if node.objtype.name != "OBJECT_MATVIEW":
            raise _Unsupported  # CREATE TABLE AS: the column types are not in the text
        schema, name = self._relation(node.into.rel)
        self._note_schema(schema)
        table = _Tab(schema=schema, name=name, kind="materialized_view", line=self._stmt_line())
        definition = self._rest_after("AS")
        if definition:
            definition = re.sub(r"\s+WITH\s+(NO\s+)?DATA\s*$", "", definition, flags=re.IGNORECASE)
        table.definition = definition or self._deparse(node.query)
        self.tables[(schema, name)] = table

    def _create_sequence(self, node: Any) -> None:
        schema, name = self._relation(node.sequence)
        if node.if_not_exists and (schema, name) in self.sequences:
            return
        self._note_schema(schema)
        seq = _Seq(schema=schema, name=name, line=self._stmt_line())
        for opt in node.options or ():
            _apply_sequence_option(seq, opt, self._type)
        if seq.max_value is None:
            seq.max_value = _SEQUENCE_MAX.get(seq.data_type or "bigint")
        self.sequences[(schema, name)] = seq

    def _alter_sequence(self, node: Any) -> None:
        seq = self.sequences.get(self._relation(node.sequence))
        if seq is None:
            return
        for opt in node.options or ():
            _apply_sequence_option(seq, opt, self._type)

    def _select(self, node: Any) -> None:
        """`SELECT pg_catalog.setval('seq', n, true)` (dumps with data) gives a sequence's position."""
        for target in node.targetList or ():
            call = target.val
            if type(call).__name__ != "FuncCall" or call.funcname[-1].sval != "setval":
                continue
            args: Any = call.args or ()
            if len(args) < 2 or type(args[0]).__name__ != "A_Const" or type(args[1]).__name__ != "A_Const":
                continue
            seq_name, value = getattr(args[0].val, "sval", None), getattr(args[1].val, "ival", None)
            if not isinstance(seq_name, str) or not isinstance(value, int):
                continue
            parts = seq_name.split(".")
            key = (parts[-2] if len(parts) > 1 else DEFAULT_SCHEMA, parts[-1])
            seq = self.sequences.get(key)
            if seq is None:
                continue
            is_called = True
            if len(args) > 2 and type(args[2]).__name__ == "A_Const":
                is_called = bool(getattr(args[2].val, "boolval", True))
            seq.current_value = value if is_called else None

    # ----------------------------------------------------------------- comments, types, schemas

    def _comment(self, node: Any) -> None:
        objtype = node.objtype.name
        if objtype == "OBJECT_COLUMN":
            parts = [s.sval for s in node.object]
            if len(parts) < 2:
                return
            key = (parts[-3] if len(parts) > 2 else DEFAULT_SCHEMA, parts[-2])
            table = self.tables.get(key)
            col = table.columns.get(parts[-1]) if table else None
            if col is not None:
                col.comment = node.comment
        elif objtype in _TABLE_OBJECTS:
            parts = [s.sval for s in node.object]
            key = (parts[-2] if len(parts) > 1 else DEFAULT_SCHEMA, parts[-1])
            table = self.tables.get(key)
            if table is not None:
                table.comment = node.comment

    def _create_enum(self, node: Any) -> None:
        self.enums[_type_key([s.sval for s in node.typeName])] = [v.sval for v in node.vals or ()]

    def _alter_enum(self, node: Any) -> None:
        values = self.enums.get(_type_key([s.sval for s in node.typeName]))
        if values is None or not node.newVal:
            return
        if node.oldVal:  # RENAME VALUE
            values[:] = [node.newVal if v == node.oldVal else v for v in values]
        elif node.newVal not in values:
            if node.newValNeighbor and node.newValNeighbor in values:
                at = values.index(node.newValNeighbor) + (1 if node.newValIsAfter else 0)
                values.insert(at, node.newVal)
            else:
                values.append(node.newVal)

    def _create_domain(self, node: Any) -> None:
        self.domains[_type_key([s.sval for s in node.domainname])] = self._type(node.typeName)

    def _create_extension(self, node: Any) -> None:
        version = None
        for opt in node.options or ():
            if opt.defname == "new_version":
                version = _defelem_value(opt.arg)
        self.extensions[node.extname] = Extension(name=node.extname, version=version)

    def _create_schema(self, node: Any) -> None:
        if node.schemaname:
            self._note_schema(node.schemaname)
        for element in node.schemaElts or ():
            handler = self.handlers.get(type(element).__name__)
            if handler is not None:
                handler(element)

    def _rename(self, node: Any) -> None:
        kind = node.renameType.name
        if kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE") and node.relation:
            key = self._relation(node.relation)
            table = self.tables.pop(key, None)
            if table is not None:
                table.name = node.newname
                self.tables[(table.schema, table.name)] = table
        elif kind == "OBJECT_COLUMN" and node.relation:
            table = self._table(node.relation)
            if table is not None and node.subname in table.columns:
                col = table.columns[node.subname]
                col.name = node.newname
                table.columns = {(node.newname if k == node.subname else k): v for k, v in table.columns.items()}

    def _drop(self, node: Any) -> None:
        kind = node.removeType.name
        for obj in node.objects or ():
            if not isinstance(obj, tuple):
                continue
            parts = [getattr(s, "sval", "") for s in obj]
            key = (parts[-2] if len(parts) > 1 else DEFAULT_SCHEMA, parts[-1])
            if kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
                self.tables.pop(key, None)
            elif kind == "OBJECT_SEQUENCE":
                self.sequences.pop(key, None)
            elif kind == "OBJECT_INDEX":
                for table in self.tables.values():
                    if table.schema == key[0]:
                        table.indexes = [i for i in table.indexes if i.name != key[1]]

    def _note_schema(self, schema: str) -> None:
        if schema not in self.schemas:
            self.schemas.append(schema)

    # ----------------------------------------------------------------- the result

    def _result(self) -> ParsedSchema:
        self._inherit_columns()
        self._cascade_to_partitions()
        tables = [self._freeze(t) for t in self.tables.values()]
        sequences = [
            Sequence(
                schema_name=s.schema,
                name=s.name,
                data_type=s.data_type,
                current_value=s.current_value,
                max_value=s.max_value,
                owned_by=s.owned_by,
                source_line=s.line,
            )
            for s in self.sequences.values()
        ]
        catalog = Catalog(
            engine="postgresql",
            source="ddl",
            schemas=list(self.schemas),
            tables=tables,
            sequences=sequences,
            extensions=list(self.extensions.values()),
        )
        return ParsedSchema(
            catalog=catalog,
            warnings=self.warnings,
            statements=self.statements,
            enums={k: list(v) for k, v in self.enums.items()},
            domains=dict(self.domains),
        )

    def _inherit_columns(self) -> None:
        """Children of INHERITS / PARTITION OF get their parents' columns first, as the server shows them."""
        done: set[tuple[str, str]] = set()

        def resolve(key: tuple[str, str], seen: frozenset[tuple[str, str]]) -> None:
            if key in done or key in seen:
                return
            table = self.tables[key]
            parents = [*table.inherits, *([table.partition_of] if table.partition_of else [])]
            merged: dict[str, _Col] = {}
            for parent_name in parents:
                parent_key = _split_qualified(parent_name)
                if parent_key not in self.tables:
                    continue
                resolve(parent_key, seen | {key})
                for col in self.tables[parent_key].columns.values():
                    if col.name not in merged:
                        merged[col.name] = _Col(**{**col.__dict__, "comment": None})
            if merged:
                for name, own in table.columns.items():
                    if name in merged and own.data_type == "unknown":
                        inherited = merged[name]
                        inherited.nullable = inherited.nullable and own.nullable
                        inherited.default = own.default or inherited.default
                    else:
                        merged[name] = own
                table.columns = merged
            done.add(key)

        for key in list(self.tables):
            resolve(key, frozenset())

    def _cascade_to_partitions(self) -> None:
        """A partition gets the keys and (non-ONLY) indexes declared on its parent, as the server creates them.

        pg_dump writes each partition's own constraints and indexes explicitly; hand-written DDL
        usually does not. An equivalent index already on the partition is never duplicated.
        """
        for child in self.tables.values():
            parent = self.tables.get(_split_qualified(child.partition_of)) if child.partition_of else None
            if parent is None or parent is child:
                continue
            if child.primary_key is None and parent.primary_key is not None:
                name = _truncate(f"{child.name}_pkey")
                child.primary_key = PrimaryKey(name=name, columns=list(parent.primary_key.columns))
            for index in parent.indexes:
                if index.name in parent.only_indexes:
                    continue
                if any(i.columns == index.columns and i.predicate == index.predicate for i in child.indexes):
                    continue
                if index.origin == "primary_key":
                    name = (child.primary_key.name if child.primary_key else None) or _truncate(f"{child.name}_pkey")
                elif index.origin == "unique_constraint":
                    name = _truncate(f"{child.name}_{'_'.join(index.columns)}_key")
                    child.uniques.append(UniqueConstraint(name=name, columns=list(index.columns)))
                else:
                    stem = "_".join(c if c.isidentifier() else "expr" for c in index.columns)
                    name = _truncate(f"{child.name}_{stem}_idx")
                child.indexes.append(index.model_copy(update={"name": name}))

    def _freeze(self, t: _Tab) -> Table:
        foreign_keys = []
        for fk in t.foreign_keys:
            if not fk.ref_columns:
                ref = self.tables.get((fk.ref_schema or DEFAULT_SCHEMA, fk.ref_table))
                if ref is not None and ref.primary_key is not None:
                    fk = fk.model_copy(update={"ref_columns": list(ref.primary_key.columns)})
            foreign_keys.append(fk)
        columns = []
        for ordinal, c in enumerate(t.columns.values(), start=1):
            columns.append(
                Column(
                    name=c.name,
                    data_type=c.data_type,
                    nullable=c.nullable,
                    default=c.default,
                    ordinal=ordinal,
                    identity=c.identity,  # type: ignore[arg-type]
                    generated=c.generated,
                    generated_kind=c.generated_kind,  # type: ignore[arg-type]
                    collation=c.collation,
                    comment=c.comment,
                    source_line=c.line,
                )
            )
            labels = self.enums.get(_type_key(c.data_type.removesuffix("[]").split(".")))
            if labels is not None:
                t.options[f"enum:{c.name}"] = ",".join(labels)
        return Table(
            schema_name=t.schema,
            name=t.name,
            kind=t.kind,
            columns=columns,
            primary_key=t.primary_key,
            foreign_keys=foreign_keys,
            unique_constraints=t.uniques,
            check_constraints=t.checks,
            indexes=t.indexes,
            partition_of=t.partition_of,
            partition_key=t.partition_key,
            options=t.options,
            definition=t.definition,
            comment=t.comment,
            source_line=t.line,
        )


# --------------------------------------------------------------------------- helpers

_COLUMN_CONSTRAINT_WORDS: Final = frozenset(
    {
        "NOT",
        "NULL_P",
        "CONSTRAINT",
        "CHECK",
        "DEFAULT",
        "UNIQUE",
        "PRIMARY",
        "REFERENCES",
        "GENERATED",
        "COLLATE",
        "DEFERRABLE",
        "INITIALLY",
    }
)


def _typmod(node: Any) -> str:
    kind = type(node).__name__
    if kind == "A_Const":
        val = node.val
        for attr in ("ival", "fval", "sval"):
            if hasattr(val, attr):
                return str(getattr(val, attr))
    if kind == "ColumnRef":
        return ".".join(getattr(f, "sval", "*") for f in node.fields)
    return "?"


def _defelem_value(arg: Any) -> str:
    if arg is None:
        return "true"
    for attr in ("sval", "ival", "fval", "boolval"):
        if hasattr(arg, attr):
            value = getattr(arg, attr)
            return str(value).lower() if isinstance(value, bool) else str(value)
    if type(arg).__name__ == "TypeName":
        return ".".join(n.sval for n in arg.names)
    return str(arg)


def _apply_sequence_option(seq: _Seq, opt: Any, format_type: Callable[[Any], str]) -> None:
    name, arg = opt.defname, opt.arg
    if name == "as" and arg is not None:
        seq.data_type = format_type(arg)
    elif name == "maxvalue":
        seq.max_value = _int_arg(arg)  # NO MAXVALUE → None, filled with the type's maximum later
    elif name == "owned_by" and arg is not None:
        parts = [s.sval for s in arg]
        if len(parts) == 1 and parts[0].lower() == "none":
            seq.owned_by = None
        elif len(parts) >= 2:
            parts = parts if len(parts) > 2 else [DEFAULT_SCHEMA, *parts]
            seq.owned_by = ".".join(parts[-3:])


def _int_arg(arg: Any) -> int | None:
    if arg is None:
        return None
    value = getattr(arg, "ival", None)
    if isinstance(value, int):
        return value
    text = getattr(arg, "fval", None) or getattr(arg, "sval", None)
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


def _qualified(key: tuple[str, str]) -> str:
    return f"{key[0]}.{key[1]}"


def _split_qualified(name: str) -> tuple[str, str]:
    schema, _, table = name.rpartition(".")
    return (schema or DEFAULT_SCHEMA, table)


def _type_key(parts: list[str]) -> str:
    """Enum/domain names as a column's data_type spells them: no `public.` prefix."""
    if len(parts) == 2 and parts[0] == DEFAULT_SCHEMA:
        return parts[1]
    return ".".join(parts)


def _truncate(name: str) -> str:
    """PostgreSQL identifiers are at most 63 bytes (NAMEDATALEN - 1)."""
    encoded = name.encode("utf-8")
    if len(encoded) <= 63:
        return name
    return encoded[:63].decode("utf-8", "ignore")


def _split(text: str) -> Iterator[tuple[int, int]]:
    """Statement boundaries (start, end) found without the parser, so that one bad statement stays alone."""
    start = 0
    atomic = 0
    pos = 0
    length = len(text)
    while pos < length:
        match = _SPLIT_TOKENS.search(text, pos)
        if match is None:
            break
        kind = match.lastgroup
        pos = match.end()
        if kind == "block":
            pos = _skip_block_comment(text, match.start())
        elif kind == "dollar":
            closing = text.find(match.group(), pos)
            pos = length if closing < 0 else closing + len(match.group())
        elif kind == "atomic" or (kind == "case" and atomic):
            atomic += 1
        elif kind == "end" and atomic:
            atomic -= 1
        elif kind == "semi" and not atomic:
            yield start, match.end()
            start = match.end()
    if text[start:].strip():
        yield start, length


def _skip_block_comment(text: str, pos: int) -> int:
    depth = 0
    length = len(text)
    while pos < length:
        if text.startswith("/*", pos):
            depth += 1
            pos += 2
        elif text.startswith("*/", pos):
            depth -= 1
            pos += 2
            if depth == 0:
                return pos
        else:
            pos += 1
    return length
