"""QRY rules on joins: a join with no condition (QRY009) and DISTINCT hiding a join's fan-out (QRY011)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlglot import exp

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.queries.rules_common import (
    _as_table,
    _direct_sources,
    _finding,
    _sql,
    _walk_local,
    catalog_column,
    catalog_table,
)

# ----------------------------------------------------------------------------------------------- QRY009

CARTESIAN_JOIN = RuleSpec(
    id="QRY009",
    name="cartesian-join",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.HIGH,
    status="preview",
    fix="never",
    summary="Tables joined with no condition connecting them (an accidental cross product).",
)


def _alias_of(column: exp.Column, sources: dict[str, exp.Table | None], schema: Catalog | None) -> str | None:
    if column.table:
        key = column.table.lower()
        return key if key in sources else None
    if len(sources) == 1:
        return next(iter(sources))
    if schema is not None:
        owners = [a for a, t in sources.items() if t and catalog_column(schema, t, column.name) is not None]
        if len(owners) == 1:
            return owners[0]
    return None


def _root_finder(parent: dict[str, str]) -> Callable[[str], str]:
    def find(alias: str) -> str:
        while parent[alias] != alias:
            alias = parent[alias]
        return alias

    return find


def check_cartesian_join(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """Two tables in one FROM with nothing relating them multiply their row counts.

    ## Why is this bad?
    `FROM orders, customers` without a join condition pairs every order with every customer:
    10,000 by 10,000 rows is 100 million, usually followed by a DISTINCT that hides the mistake.

    ## Example
    ```sql
    SELECT o.id, c.name FROM orders o, customers c WHERE o.total > 100;
    ```

    ## Use instead
    ```sql
    SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
    ```

    ## Fix safety
    No automatic fix: the missing condition is not in the text. Write CROSS JOIN when a cross
    product is intended; explicit CROSS JOINs are never flagged.
    """
    for select in root.find_all(exp.Select):
        joins = select.args.get("joins") or []
        if not joins:
            continue
        sources: dict[str, exp.Table | None] = {}
        for alias, source in _direct_sources(select):
            sources[alias.lower()] = _as_table(source)
        if any(t is None for t in sources.values()):
            continue  # derived tables, functions and LATERAL are out of scope
        cross = {j.this.alias_or_name.lower() for j in joins if (j.args.get("kind") or "").upper() == "CROSS"}
        if any(j.args.get("using") or (j.args.get("method") or "").upper() == "NATURAL" for j in joins):
            continue  # USING and NATURAL joins carry their condition
        parent = {a: a for a in sources}
        find = _root_finder(parent)
        conditions: list[exp.Expr] = [j.args["on"] for j in joins if j.args.get("on") is not None]
        where = select.args.get("where")
        if where is not None:
            conditions.append(where.this)
        unknown = False
        for condition in conditions:
            for conj in condition.flatten() if isinstance(condition, exp.And) else [condition]:
                columns = [c for n in _walk_local(conj) if isinstance(n, exp.Column) for c in [n]]
                if any(n for n in conj.find_all(exp.Subquery)):
                    columns += [c for c in conj.find_all(exp.Column) if c.table and c.table.lower() in sources]
                aliases = {_alias_of(c, sources, schema) for c in columns}
                if None in aliases and len(columns) > 1:
                    unknown = True
                known = [a for a in aliases if a is not None]
                for other in known[1:]:
                    parent[find(other)] = find(known[0])
        for alias in cross:
            for other in sources:
                parent[find(other)] = find(alias)  # an explicit CROSS JOIN is intended
        groups = {find(a) for a in sources}
        if unknown or len(groups) < 2:
            continue
        names = sorted(sources)
        yield _finding(
            CARTESIAN_JOIN,
            text,
            line,
            title=f"No condition connects {len(groups)} groups of tables ({', '.join(names)}): a cross product",
            evidence={"tables": ", ".join(names), "disconnected_groups": len(groups)},
            rationale=(
                "Without a join condition every row of one side pairs with every row of the other, so the "
                "result (and the work) is the product of the table sizes."
            ),
            help="Add the missing join condition (JOIN ... ON), or write CROSS JOIN if the product is intended.",
        )


# ----------------------------------------------------------------------------------------------- QRY011

DISTINCT_OVER_JOIN = RuleSpec(
    id="QRY011",
    name="distinct-hides-fan-out",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="DISTINCT removes duplicates made by a join to a table none of whose columns are returned.",
)


def _joined_on_unique(join: exp.Join, alias: str, table: exp.Table | None, schema: Catalog | None) -> bool:
    """True when the catalog shows the join matches at most one row of `table` (its key or a unique index)."""
    found = catalog_table(schema, table)
    on = join.args.get("on")
    if found is None or on is None:
        return False
    own = {c.name.lower() for c in on.find_all(exp.Column) if (c.table or "").lower() == alias}
    keys = [found.primary_key.columns] if found.primary_key else []
    keys += [u.columns for u in found.unique_constraints]
    keys += [i.columns for i in found.indexes if i.unique and not i.predicate]
    return any(k and {c.lower() for c in k} <= own for k in keys)


def check_distinct_over_join(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """SELECT DISTINCT over a join to a one-to-many table hides the fan-out instead of avoiding it.

    ## Why is this bad?
    Joining customers to their orders only to filter produces one row per order; DISTINCT then
    sorts or hashes them all back to one per customer. The work grows with the child table, and
    DISTINCT can hide real duplicates elsewhere.

    ## Example
    ```sql
    SELECT DISTINCT c.id, c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 100;
    ```

    ## Use instead
    ```sql
    SELECT c.id, c.name FROM customers c
    WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.total > 100);
    ```

    ## Fix safety
    The EXISTS form is equivalent when the DISTINCT only removed the join's duplicates. Check the
    parent rows themselves are unique (they are when its key is in the select list).
    """
    for select in root.find_all(exp.Select):
        joins = select.args.get("joins") or []
        if not select.args.get("distinct") or not joins or select.args.get("group"):
            continue
        sources = {a.lower(): _as_table(s) for a, s in _direct_sources(select)}
        if len(sources) < 2 or any(t is None for t in sources.values()):
            continue
        used: set[str] = set()
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                used.update(sources)
            for column in projection.find_all(exp.Column):
                alias = _alias_of(column, sources, schema)
                if alias is None:
                    used.update(sources)  # cannot tell: assume it is used
                else:
                    used.add(alias)
        unused = [
            j
            for j in joins
            if j.this.alias_or_name.lower() not in used
            and (j.args.get("kind") or "").upper() not in ("CROSS",)
            and (j.args.get("side") or "").upper() != "LEFT"
        ]
        unused = [
            j
            for j in unused
            if not _joined_on_unique(j, j.this.alias_or_name.lower(), sources[j.this.alias_or_name.lower()], schema)
        ]
        if not unused:
            continue
        fix = None
        if len(joins) == 1 and len(unused) == 1 and select is root and joins[0].args.get("on") is not None:
            join = joins[0]
            alias = join.this.alias_or_name.lower()
            inner_conds: list[exp.Expr] = [join.args["on"].copy()]
            outer_conds: list[exp.Expr] = []
            where = select.args.get("where")
            for conj in (where.this.flatten() if isinstance(where.this, exp.And) else [where.this]) if where else []:
                refs = {(c.table or "").lower() for c in conj.find_all(exp.Column)}
                (inner_conds if alias in refs else outer_conds).append(conj.copy())
            sub = exp.select("1").from_(join.this.copy()).where(exp.and_(*inner_conds))
            new = select.copy()
            new.set("distinct", None)
            new.set("joins", None)
            new.set("where", None)
            new = new.where(exp.and_(*outer_conds, exp.Exists(this=sub)) if outer_conds else exp.Exists(this=sub))
            fix = Fix(
                title="Filter with EXISTS instead of joining and de-duplicating",
                statements=[_sql(new, dialect) + ";"],
                safety="display-only",
                note="Equivalent when the remaining columns are unique per parent row (e.g. include its key).",
            )
        names = ", ".join(j.this.alias_or_name for j in unused)
        yield _finding(
            DISTINCT_OVER_JOIN,
            text,
            line,
            title=f"DISTINCT removes the duplicates made by joining {names}, whose columns are not returned",
            evidence={"joined_only_to_filter": names, "one_to_many_known": schema is not None},
            rationale=(
                "A join used only as a filter multiplies the rows by the number of matches; DISTINCT then has "
                "to sort or hash them all back down. A semi-join (EXISTS) stops at the first match."
            ),
            help="Replace the join with WHERE EXISTS (...) and drop the DISTINCT.",
            fix=fix,
        )
