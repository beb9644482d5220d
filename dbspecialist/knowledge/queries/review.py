"""review_queries: static review of one statement or a whole log of them (nothing runs).

Pipeline: split the text into statements (pglast's scanner for PostgreSQL, sqlglot's tokenizer
otherwise) keeping each statement's first line → parse (pglast validates PostgreSQL; sqlglot
builds the tree every rule reads) → run the QRY rules → group statements by their normalised
form (pglast fingerprint for PostgreSQL, literals replaced by placeholders otherwise) to find
N+1 patterns and write the batched rewrite. Bad input never raises: it becomes a parse warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import sqlglot
from pglast import parser as pg_parser
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType  # type: ignore[attr-defined]

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Fix, Report
from dbspecialist.knowledge.queries.model import NPlusOne, ParseWarning, QueryReview
from dbspecialist.knowledge.queries.rules import (
    N_PLUS_ONE,
    RULES,
    SUBJECT_CHARS,
    QueryCatalog,
    engine_of,
    follow_path,
    node_path,
)

N_PLUS_ONE_MIN_REPEATS = 3  # brief: the same normalised statement ≥ 3 times with different literals
EXAMPLE_LITERALS = 5  # how many of the varying values to show
BATCH_VALUES_MAX = 1000  # values written into one batched rewrite (see QRY014's IN-list threshold)

_DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "pg": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
}


# Log lines whose prefix is dropped before splitting. Each entry starts a new statement (logs carry no ';').
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MYSQL_GENERAL = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}T[\d:.]+Z?|\d{6}\s+\d{1,2}:\d{2}:\d{2})?\s+\d+\s+"
    r"(?P<command>Query|Execute|Prepare|Connect|Quit|Init DB|Close stmt|Reset stmt|Field List|Statistics|Ping"
    r"|Change user|Set option|Fetch|Long Data|Refresh|Shutdown|Kill|Binlog Dump)(?:\t| +|$)(?P<sql>.*)$"
)
_PG_LOG = re.compile(
    r"^.*?\b(?:LOG|DEBUG\d?|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|QUERY):  "
    r"(?:duration: [\d.]+ ms  )?(?P<command>statement|execute [^:]*|)(?::\s)?(?P<sql>.*)$"
)
_RAILS = re.compile(
    r"^\s*(?:[A-Z][\w:]*(?: [A-Z]\w*)* (?:Load|Create|Update|Destroy|Exists\??|Count|Pluck|Sum|Maximum|Minimum"
    r"|Average|Insert|Delete|Upsert|Insert All|Upsert All|Update All|Delete All|Ids)|SQL|CACHE(?: [\w:]+ Load)?"
    r"|TRANSACTION)\s+\(\d+(?:\.\d+)?ms\)\s+(?P<sql>.*?)(?:\s+\[\[.*\]\])?\s*$"
)
_LOG_FORMATS: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = (
    ("MySQL general log", _MYSQL_GENERAL, frozenset({"Query", "Execute"})),
    ("PostgreSQL server log", _PG_LOG, frozenset({"statement", "execute"})),
    ("Rails log", _RAILS, frozenset()),
)


def _strip_log(sql: str) -> tuple[str, str | None]:
    """A pasted MySQL general log, PostgreSQL server log or Rails log as bare statements (one per entry, same line
    numbers), with the log's name; other text unchanged. Entries that are not statements (Connect, DETAIL:,
    "Started GET", ...) and the header before the first entry are blanked."""
    lines = _ANSI.sub("", sql).split("\n")
    best: tuple[int, str, re.Pattern[str], frozenset[str]] | None = None
    for name, pattern, keep in _LOG_FORMATS:
        hits = sum(1 for text in lines if pattern.match(text))
        if hits and (best is None or hits > best[0]):
            best = (hits, name, pattern, keep)
    if best is None:
        return sql, None
    _, name, pattern, keep = best
    out: list[str] = []
    started = False
    for text in lines:
        match = pattern.match(text)
        if match is not None:
            started = True
            command = match.groupdict().get("command")
            kept = not keep or (command is not None and command.split(" ")[0] in keep)
            if kept and command == "" and pattern is _PG_LOG:
                kept = False
            out.append(";" + match.group("sql") if kept else ";")
        elif not started or pattern is _RAILS:
            out.append("")  # the header before the first entry; Rails lines between queries are not SQL
        else:
            out.append(text)  # the continuation of a multi-line statement
    return "\n".join(out) + ";", name


@dataclass(frozen=True)
class _Statement:
    text: str
    line: int
    tree: exp.Expr | None


def _skip_noise(sql: str, offset: int, end: int) -> int:
    """The first offset at or after `offset` that is not whitespace or a leading comment."""
    while offset < end:
        if sql[offset].isspace():
            offset += 1
        elif sql.startswith("--", offset):
            close = sql.find("\n", offset)
            offset = end if close < 0 else close + 1
        elif sql.startswith("/*", offset):
            close = sql.find("*/", offset + 2)
            offset = end if close < 0 else close + 2
        else:
            break
    return min(offset, end)


def _split_tokens(sql: str, dialect: str) -> list[tuple[int, str]]:
    tokens = Dialect.get_or_raise(dialect or None).tokenize(sql)
    pieces: list[tuple[int, str]] = []
    start: int | None = None
    end = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if start is not None:
                pieces.append((start, sql[start : end + 1]))
            start = None
            continue
        if start is None:
            start = token.start
        end = token.end
    if start is not None:
        pieces.append((start, sql[start : end + 1]))
    return pieces


def _split_pg(sql: str) -> list[tuple[int, str]]:
    """Split on the semicolons pglast's scanner sees (so quoted and dollar-quoted text is respected)."""
    pieces: list[tuple[int, str]] = []
    start: int | None = None
    end = 0
    for token in pg_parser.scan(sql):
        if token.name == "ASCII_59":
            if start is not None:
                pieces.append((start, sql[start : end + 1]))
            start = None
        elif token.name not in ("SQL_COMMENT", "C_COMMENT"):
            if start is None:
                start = token.start
            end = token.end
    if start is not None:
        pieces.append((start, sql[start : end + 1]))
    return pieces


_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")


def _split_plain(sql: str) -> list[tuple[int, str]]:
    """Last resort when no tokenizer accepts the text (an unterminated quote): split on semicolons outside
    quotes, dollar quotes and comments; an unterminated one runs to the end of the text."""
    pieces: list[tuple[int, str]] = []
    start, i, n = 0, 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"`":
            close = sql.find(char, i + 1)
            i = n if close < 0 else close + 1
        elif sql.startswith("--", i):
            close = sql.find("\n", i)
            i = n if close < 0 else close + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif char == "$" and (tag := _DOLLAR_TAG.match(sql, i)) is not None:
            close = sql.find(tag.group(), tag.end())
            i = n if close < 0 else close + len(tag.group())
        elif char == ";":
            pieces.append((start, sql[start:i]))
            start = i = i + 1
        else:
            i += 1
    pieces.append((start, sql[start:]))
    return [(begin + len(text) - len(text.lstrip()), text) for begin, text in pieces]


def _split(sql: str, dialect: str) -> list[tuple[int, str]]:
    """(line, text) of every statement, in order; text that cannot be tokenised stays one statement."""
    pieces: list[tuple[int, str]] | None = None
    if dialect == "postgres":
        try:
            pieces = _split_pg(sql)
        except Exception:  # e.g. an unterminated quote: sqlglot may still split it
            pieces = None
    if pieces is None:
        try:
            pieces = _split_tokens(sql, dialect)
        except Exception:  # the parse step reports what is wrong
            pieces = None
    if pieces is None:
        pieces = _split_plain(sql)
    statements: list[tuple[int, str]] = []
    for start, text in pieces:
        end = start + len(text)
        begin = _skip_noise(sql, start, end)
        body = sql[begin:end].strip()
        if body.strip(";").strip():
            statements.append((sql.count("\n", 0, begin) + 1, body))
    return statements


def _first_line(message: object) -> str:
    return str(message).strip().splitlines()[0][:300] if str(message).strip() else "syntax error"


def _parse(text: str, line: int, dialect: str, warnings: list[ParseWarning]) -> exp.Expr | None:
    if dialect == "postgres":
        try:
            pg_parser.parse_sql(text)
        except Exception as error:
            warnings.append(
                ParseWarning(line=line, message=f"PostgreSQL cannot parse this statement: {_first_line(error)}")
            )
            return None
    try:
        trees = [t for t in sqlglot.parse(text, read=dialect or None) if t is not None]
    except Exception as error:
        warnings.append(ParseWarning(line=line, message=f"could not parse the statement: {_first_line(error)}"))
        return None
    if not trees:
        return None
    if isinstance(trees[0], exp.Command):
        return None  # a statement sqlglot only passes through (SET, SHOW, VACUUM...): nothing to review
    return trees[0]


def _literals(tree: exp.Expr) -> list[exp.Literal]:
    found: list[exp.Literal] = []
    for node in tree.walk():
        if isinstance(node, exp.Literal) and node.find_ancestor(exp.Parameter, exp.Placeholder) is None:
            if isinstance(node.parent, (exp.DataType, exp.DataTypeParam)):
                continue
            found.append(node)
    return found


def _normalise(statement: _Statement, dialect: str) -> tuple[str, str] | None:
    """(grouping key, normalised text), or None when the statement has no literal to vary."""
    assert statement.tree is not None
    if not _literals(statement.tree):
        return None
    if dialect == "postgres":
        try:
            return pg_parser.fingerprint(statement.text), pg_parser.normalize(statement.text)
        except Exception:  # noqa: S110 - fall back to the sqlglot form
            pass
    copy = statement.tree.copy()
    for literal in _literals(copy):
        literal.replace(exp.Placeholder())
    generic = copy.sql(dialect=dialect or None)
    return generic, generic


def _value(literal: exp.Literal, dialect: str) -> str:
    return literal.sql(dialect=dialect or None)


def _batched(group: list[_Statement], dialect: str) -> str | None:
    """One statement replacing the repeats: `col = ANY(ARRAY[...])`, `col IN (...)` or multi-row VALUES."""
    first = group[0].tree
    assert first is not None
    rows = [[_value(x, dialect) for x in _literals(s.tree)] for s in group if s.tree is not None]
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        return None
    varying = [i for i in range(width) if len({r[i] for r in rows}) > 1]
    if isinstance(first, exp.Insert) and isinstance(first.expression, exp.Values):
        values = first.expression.expressions
        if len(values) != 1:
            return None
        tuples = [s.tree.expression.expressions[0].copy() for s in group if isinstance(s.tree, exp.Insert)]
        new = first.copy()
        new.expression.set("expressions", tuples[:BATCH_VALUES_MAX])
        return new.sql(dialect=dialect or None) + ";"
    if len(varying) != 1:
        return None
    literal = _literals(first)[varying[0]]
    predicate = literal.parent
    while isinstance(predicate, exp.Paren):
        predicate = predicate.parent
    if not isinstance(predicate, exp.EQ) or predicate.find_ancestor(exp.Where) is None:
        return None
    column = (
        predicate.this
        if predicate.expression is literal or predicate.expression.find(exp.Literal) is literal
        else predicate.expression
    )
    if not isinstance(column, exp.Column):
        return None
    distinct: list[exp.Expr] = []
    seen: set[str] = set()
    for statement in group:
        assert statement.tree is not None
        value = _literals(statement.tree)[varying[0]]
        key = _value(value, dialect)
        if key not in seen:
            seen.add(key)
            distinct.append(value.copy())
    distinct = distinct[:BATCH_VALUES_MAX]
    limited = [s for s in _enclosing_selects(predicate) if s.args.get("limit") or s.args.get("offset")]
    if limited:
        # LIMIT/OFFSET applies per parent in the repeats: one IN list would keep n rows in all, not n per value
        if not isinstance(first, exp.Select) or limited != [first]:
            return None
        return _per_value(first, predicate, literal, column, distinct, dialect)
    batched: exp.Expr
    if dialect == "postgres":
        batched = exp.EQ(this=column.copy(), expression=exp.Any(this=exp.Paren(this=exp.Array(expressions=distinct))))
    else:
        batched = exp.In(this=column.copy(), expressions=distinct)
    copy = first.copy()
    target = follow_path(copy, node_path(predicate, first))
    target.replace(batched)
    if isinstance(copy, exp.Select) and not copy.args.get("group") and _aggregates(copy):
        # count(*) ... WHERE post_id = 1, repeated: one total over every value would be wrong, so group by it
        copy.set("expressions", [column.copy(), *copy.expressions])
        copy.set("group", exp.Group(expressions=[column.copy()]))
    elif isinstance(copy, exp.Select) and copy.args.get("group") and _aggregates(copy):
        grouping = copy.args["group"]
        grouping.set("expressions", [column.copy(), *grouping.expressions])
        copy.set("expressions", [column.copy(), *copy.expressions])
    return copy.sql(dialect=dialect or None) + ";"


def _enclosing_selects(node: exp.Expr) -> list[exp.Select]:
    found: list[exp.Select] = []
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Select):
            found.append(parent)
        parent = parent.parent
    return found


def _aggregates(select: exp.Select) -> bool:
    return any(
        node.find_ancestor(exp.Select) is select and node.find_ancestor(exp.Window) is None
        for e in select.expressions
        for node in e.find_all(exp.AggFunc)
    )


def _limit_value(select: exp.Select, arg: str) -> int | None:
    """The integer of LIMIT/OFFSET/TOP, 0 when absent, None when it is not a plain integer."""
    node = select.args.get(arg)
    if node is None:
        return 0
    value = node.args.get("expression") if isinstance(node, (exp.Limit, exp.Offset)) else node.args.get("count")
    if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
        return int(value.this)
    return None


def _per_value(
    first: exp.Select,
    predicate: exp.Expr,
    literal: exp.Literal,
    column: exp.Column,
    distinct: list[exp.Expr],
    dialect: str,
) -> str | None:
    """The repeats keep LIMIT/OFFSET rows per value: PostgreSQL runs the statement once per value through
    LATERAL (the same plan, one round trip); elsewhere ROW_NUMBER() numbers the rows within each value."""
    if dialect == "postgres":
        inner = first.copy()
        target = follow_path(inner, node_path(literal, first))
        target.replace(exp.column("key", table="batch"))
        values = exp.Array(expressions=distinct)
        return (
            f"SELECT per_key.* FROM unnest({values.sql(dialect='postgres')}) AS batch(key) "
            f"CROSS JOIN LATERAL ({inner.sql(dialect='postgres')}) AS per_key;"
        )
    limit, offset = _limit_value(first, "limit"), _limit_value(first, "offset")
    if limit is None or offset is None or not isinstance(first.args.get("limit"), (exp.Limit, type(None))):
        return None
    if first.args.get("group") or first.args.get("distinct") or first.args.get("having") or _aggregates(first):
        return None
    if first.find(exp.Window) is not None:
        return None
    inner = first.copy()
    target = follow_path(inner, node_path(predicate, first))
    target.replace(exp.In(this=column.copy(), expressions=distinct))
    order = inner.args.get("order")
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[column.copy()],
        order=order.copy() if order is not None else exp.Order(expressions=[exp.Ordered(this=column.copy())]),
    )
    for arg in ("order", "limit", "offset"):
        inner.set(arg, None)
    inner.set("expressions", [*inner.expressions, exp.alias_(window, "row_in_key")])
    rank = exp.column("row_in_key")
    keep: exp.Expr = exp.GT(this=rank.copy(), expression=exp.Literal.number(offset)) if offset else exp.true()
    if first.args.get("limit") is not None:
        upper = exp.LTE(this=rank.copy(), expression=exp.Literal.number(offset + (limit or 0)))
        keep = upper if not offset else exp.and_(keep, upper)
    outer = exp.select("*").from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("ranked"))))
    outer = outer.where(keep)
    return outer.sql(dialect=dialect or None) + ";"


def _rewrite_note(rewrite: str) -> str:
    if "row_in_key" in rewrite:
        return (
            "The repeats kept LIMIT/OFFSET rows per value, so the rows are numbered within each value and the same "
            "ones kept (needs window functions: MySQL 8.0+, MariaDB 10.2+, SQLite 3.25+); drop row_in_key from the "
            "column list if the caller maps columns by position."
        )
    if "CROSS JOIN LATERAL" in rewrite:
        return "The repeats kept LIMIT/OFFSET rows per value; LATERAL runs the statement once per value, in one trip."
    return "Select the key column too so the application can map rows back to their parent."


def _n_plus_one(statements: list[_Statement], dialect: str) -> Iterator[tuple[NPlusOne, Finding]]:
    groups: dict[str, tuple[str, list[_Statement]]] = {}
    for statement in statements:
        if statement.tree is None:
            continue
        try:
            normalised = _normalise(statement, dialect)
        except Exception:  # noqa: S112 - a statement that cannot be normalised is not grouped
            continue
        if normalised is None:
            continue
        key, text = normalised
        groups.setdefault(key, (text, []))[1].append(statement)
    for text, group in groups.values():
        if len(group) < N_PLUS_ONE_MIN_REPEATS:
            continue
        value_rows = [tuple(_value(x, dialect) for x in _literals(s.tree)) for s in group if s.tree is not None]
        distinct_rows = list(dict.fromkeys(value_rows))
        if len(distinct_rows) < N_PLUS_ONE_MIN_REPEATS:
            continue
        varying = [i for i in range(len(distinct_rows[0])) if len({r[i] for r in distinct_rows if len(r) > i}) > 1]
        examples = [", ".join(r[i] for i in varying if i < len(r)) for r in distinct_rows[:EXAMPLE_LITERALS]]
        try:
            rewrite = _batched(group, dialect)
        except Exception:
            rewrite = None
        item = NPlusOne(
            normalised=text,
            count=len(group),
            distinct_values=len(distinct_rows),
            first_line=group[0].line,
            example_literals=examples,
            rewrite=rewrite,
        )
        finding = Finding(
            rule_id=N_PLUS_ONE.id,
            name=N_PLUS_ONE.name,
            severity=N_PLUS_ONE.severity,
            title=f"The same statement runs {len(group)} times with different values (N+1)",
            subject=f"{' '.join(text.split())[:SUBJECT_CHARS]} (line {group[0].line})",
            subject_kind="query",
            evidence={"count": len(group), "distinct_values": len(distinct_rows), "first_line": group[0].line},
            rationale=(
                "Each repeat pays a round trip, a parse and an executor start-up; one batched statement does the "
                "same work once and lets the planner pick a join."
            ),
            help="Fetch all the values in one statement (= ANY(array) / IN (...) / a JOIN) and distribute the rows.",
            fix=(
                Fix(
                    title="Batch the repeats into one statement",
                    statements=[rewrite],
                    safety="display-only",
                    note=_rewrite_note(rewrite),
                )
                if rewrite
                else None
            ),
            line=group[0].line,
        )
        yield item, finding


def _shape(statement: _Statement, dialect: str) -> str:
    """The statement with its literals abstracted (what the N+1 grouping uses), or its text without them."""
    try:
        normalised = _normalise(statement, dialect)
    except Exception:
        normalised = None
    return normalised[0] if normalised is not None else "text:" + " ".join(statement.text.split())


def _repeated(finding: Finding, repeats: int) -> Finding:
    if repeats < 2:
        return finding
    return finding.model_copy(
        update={
            "title": f"{finding.title} ({repeats} statements of this shape)",
            "evidence": {**finding.evidence, "statements": repeats},
        }
    )


def review_queries(
    sql: str, dialect: str = "postgres", *, schema: Catalog | None = None, search_path: list[str] | None = None
) -> QueryReview:
    """Review one statement or a log of them; never raises on bad input.

    `search_path`: the schemas an unqualified table name resolves through (the connection's, in order); without
    it PostgreSQL names resolve to `public`. A name found in several schemas, none on the path, stays unknown.
    """
    warnings: list[ParseWarning] = []
    if schema is not None and search_path:
        fields = {name: getattr(schema, name) for name in Catalog.model_fields}
        schema = QueryCatalog.model_construct(**fields, search_path=list(search_path))
    name = _DIALECTS.get(str(dialect).lower().strip(), str(dialect).lower().strip())
    try:
        Dialect.get_or_raise(name or None)
    except Exception:
        warnings.append(ParseWarning(line=1, message=f"unknown dialect {dialect!r}: reviewed as generic SQL"))
        name = ""
    text, log = _strip_log(sql if isinstance(sql, str) else "")
    pieces = _split(text, name)
    statements = [_Statement(text=text, line=line, tree=_parse(text, line, name, warnings)) for line, text in pieces]
    if log is not None and warnings:
        warnings.append(
            ParseWarning(
                line=1,
                message=f"read as a {log}: its line prefixes were dropped (paste bare SQL, one statement per ';', "
                "if that is wrong)",
            )
        )
    # a log repeating one statement shape gets each finding once, with the count, not once per statement
    shaped: dict[tuple[str, str, str], list[Finding]] = {}
    for statement in statements:
        if statement.tree is None:
            continue
        shape = _shape(statement, name)
        for spec, check in RULES:
            if spec.engines != ("any",) and engine_of(name) not in spec.engines and "any" not in spec.engines:
                continue
            try:
                for finding in check(statement.tree, statement.text, statement.line, schema, name):
                    shaped.setdefault((shape, finding.rule_id, finding.title), []).append(finding)
            except Exception as error:
                warnings.append(ParseWarning(line=statement.line, message=f"{spec.id} could not check: {error}"))
    findings = [_repeated(same[0], len(same)) for same in shaped.values()]
    patterns: list[NPlusOne] = []
    for item, finding in _n_plus_one(statements, name):
        patterns.append(item)
        findings.append(finding)
    report = Report.of(findings, rules_run=len(RULES))
    return QueryReview(
        statements=len(statements),
        findings=report.findings,
        counts=report.counts,
        n_plus_one=patterns,
        parse_warnings=warnings,
        rules_run=len(RULES),
    )
