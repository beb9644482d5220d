"""Two schemas → the DDL that turns the current one into the target, in a safe order.

`diff_schemas(current, target, dialect)` compares two shared `Catalog`s (from `parse_ddl` or a live adapter's
`introspect()`) and returns statements for PostgreSQL, MySQL/MariaDB or SQLite, always in this order:

1. prerequisites (PostgreSQL: missing extensions and stand-alone sequences);
2. new tables, as the target defines them, referenced tables first (each followed by its indexes; a foreign key
   closing a cycle is added after the tables);
3. new columns;
4. changed columns (type, default, nullability, identity; MySQL: one MODIFY COLUMN with the full definition);
   on SQLite, whose ALTER TABLE only adds and drops plain columns, the table rebuild of the SQLite docs
   ("Making Other Kinds Of Table Schema Changes": foreign keys off, one transaction, new_X, copy, drop, rename,
   indexes and triggers back, foreign_key_check);
5. new or changed indexes, then primary keys, UNIQUE, CHECK and foreign keys (a changed object is dropped and
   re-created at this point, so that its name is free; one that only changed name is renamed);
6. drops, last: foreign keys, indexes, other constraints, columns, tables, sequences.

PostgreSQL indexes are written as plain `CREATE INDEX`: the planner decides on CONCURRENTLY. Renames cannot be told
from two schemas: a column that disappears while another of the same type appears is a drop plus an add (the
planner warns about it). Views, comments, privileges, enum and domain types and the objects a partition or
inheritance child takes from its parent are not compared; triggers are compared on SQLite only (by their normalised
SQL: a changed one is dropped and re-created, see `diff_sqlite`). Names compare as the engine compares them:
exactly on PostgreSQL (the catalog holds the folded names), case-insensitively for columns, indexes and constraints
on MySQL (tables exactly first, then ignoring case) and for everything on SQLite. Types compare by meaning, not
spelling (`int4` = `integer`, `varchar(10)` = `character varying(10)`, `bool` = `boolean`; MySQL display widths,
`tinyint(1)` and MariaDB's JSON-as-LONGTEXT are read back), and expressions (defaults, CHECK, generated columns,
index columns and predicates) by their parse tree on PostgreSQL and by a normalised text elsewhere, so that a live
catalog (`'x'::text`, `(age > 0)`, `nextval('app.t_id_seq'::regclass)`) equals the DDL it was created from.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from dbspecialist.adapters.catalog import (
    Catalog,
    Column,
)
from dbspecialist.knowledge.migrations.diff_base import View
from dbspecialist.knowledge.migrations.diff_sqlite import DifferSqlite
from dbspecialist.knowledge.migrations.diff_types import (
    DIALECTS,
)

__all__ = ["diff_schemas"]


def diff_schemas(current: Catalog, target: Catalog, dialect: str, *, drops: Collection[str] | None = None) -> list[str]:
    """The statements (no trailing `;`) that turn `current` into `target`, in a safe order; [] when they match.

    `drops`: when given, a table or stand-alone sequence missing from `target` is dropped only if its name (short
    or schema-qualified, lower case) is in it; the others are left alone (`kept_objects` lists them). None: every
    missing one is dropped (the target is the whole schema).
    """
    return _differ(current, target, dialect, drops).run()


def kept_objects(current: Catalog, target: Catalog, dialect: str, drops: Collection[str]) -> list[str]:
    """The tables and stand-alone sequences missing from `target` that diff_schemas(drops=drops) leaves alone."""
    differ = _differ(current, target, dialect, drops)
    differ.run()
    return sorted(differ.kept)


def _differ(current: Catalog, target: Catalog, dialect: str, drops: Collection[str] | None) -> _Differ:
    canonical = DIALECTS.get(dialect.strip().lower())
    if canonical is None:
        raise ValueError(f"unknown dialect {dialect!r} for a schema diff; accepted: {', '.join(DIALECTS)}")
    differ = _Differ(current, target, canonical)
    differ.drops = None if drops is None else frozenset(name.lower() for name in drops)
    return differ


class _Differ(DifferSqlite):
    """The whole diff: new tables, changed tables (columns here, the rest in the layers below), drops."""

    # ----------------------------------------------------------------- driving

    def run(self) -> list[str]:
        created = [self.tgt_views[k] for k in sorted(self.tgt_views) if k not in self.cur_views]
        dropped = [self.cur_views[k] for k in sorted(self.cur_views) if k not in self.tgt_views]
        pairs = [(self.cur_views[k], self.tgt_views[k]) for k in sorted(self.tgt_views) if k in self.cur_views]
        if self.dialect == "mysql":  # table names are case-sensitive on Linux; fall back to ignoring case
            pairs += self._pair_ignoring_case(created, dropped)
            pairs.sort(key=lambda pair: pair[1].key)
        if self.dialect == "postgres":
            self._prerequisites()
        self._create_tables(created)
        rebuilds: list[str] = []
        for cur, tgt in pairs:
            self._diff_table(cur, tgt, rebuilds)
        if rebuilds:  # SQLite: one transaction for every rebuilt table, foreign keys off meanwhile
            self.out.alter_columns += [
                "PRAGMA foreign_keys = OFF",
                "BEGIN",
                *rebuilds,
                "PRAGMA foreign_key_check",
                "COMMIT",
                "PRAGMA foreign_keys = ON",
            ]
        for view in reversed(self._dependency_order(dropped, target=False)):
            if self.may_drop(view.table.schema_name, view.table.name):
                self.out.drop_tables.append(f"DROP TABLE {self._tname(view)}")
        return self.out.statements()

    def _pair_ignoring_case(self, created: list[View], dropped: list[View]) -> list[tuple[View, View]]:
        def folded(view: View) -> tuple[str, str]:
            return view.key[0].casefold(), view.key[1].casefold()

        pairs = []
        for tgt in list(created):
            same = [cur for cur in dropped if folded(cur) == folded(tgt)]
            if len(same) == 1:
                pairs.append((same[0], tgt))
                created.remove(tgt)
                dropped.remove(same[0])
        return pairs

    # ----------------------------------------------------------------- changed tables

    def _diff_table(self, cur: View, tgt: View, rebuilds: list[str]) -> None:
        if self.dialect == "postgres" and (
            cur.table.partition_of or tgt.table.partition_of or "inherits" in tgt.table.options
        ):
            return  # a partition's or child's columns, keys and indexes come from its parent
        if self.dialect == "sqlite":  # ALTER TABLE adds and drops columns; anything more is a rebuild
            if self._needs_rebuild(cur, tgt):
                rebuilds.extend(self._rebuild(cur, tgt))
            else:
                self._diff_columns(cur, tgt, pk_dropped=False)
                self._diff_indexes(cur, tgt)
            return
        pk_dropped = cur.primary_key is not None and (
            tgt.primary_key is None or self._pk_sig(cur.primary_key) != self._pk_sig(tgt.primary_key)
        )
        self._diff_columns(cur, tgt, pk_dropped)
        self._diff_indexes(cur, tgt)
        self._diff_primary_key(cur, tgt)
        if self.dialect != "mysql":
            self._diff_uniques(cur, tgt)
        self._diff_checks(cur, tgt)
        self._diff_foreign_keys(cur, tgt)

    def _diff_columns(self, cur: View, tgt: View, pk_dropped: bool) -> None:
        table = self._tname(cur)
        current = {self._key(c.name): c for c in cur.columns}
        wanted = {self._key(c.name) for c in tgt.columns}
        pk_columns = set(self._pk_sig(cur.primary_key)) if cur.primary_key and pk_dropped else set()
        inline_fks = self._sqlite_inline_fks(cur, tgt) if self.dialect == "sqlite" else {}
        regenerated = self._pg_dependent_generated(cur, tgt)
        for column in regenerated:
            self.out.alter_columns.append(f"ALTER TABLE {table} DROP COLUMN {self._q(column.name)}")
        for column in tgt.columns:
            old = current.get(self._key(column.name))
            if old is None:
                definition = self._column_def(column, tgt)
                if self._key(column.name) in inline_fks:
                    definition += f" {self._references(inline_fks[self._key(column.name)], tgt)}"
                self.out.add_columns.append(f"ALTER TABLE {table} ADD COLUMN {definition}")
            elif self._expr(old.generated) != self._expr(column.generated) and self.dialect == "postgres":
                self.out.add_columns.append(f"ALTER TABLE {table} DROP COLUMN {self._q(old.name)}")
                self.out.add_columns.append(f"ALTER TABLE {table} ADD COLUMN {self._column_def(column, tgt)}")
            elif self.dialect != "sqlite":  # SQLite: a changed column means a rebuild, decided before
                later = self._key(column.name) in pk_columns and self._nullable(column, tgt)
                self._alter_column(cur, tgt, old, column, later)
        for column in regenerated:
            self.out.alter_columns.append(f"ALTER TABLE {table} ADD COLUMN {self._column_def(column, tgt)}")
        for column in cur.columns:
            if self._key(column.name) not in wanted:
                self.out.drop_columns.append(f"ALTER TABLE {table} DROP COLUMN {self._q(column.name)}")

    def _pg_dependent_generated(self, cur: View, tgt: View) -> list[Column]:
        """PostgreSQL cannot retype a column a generated column reads: drop that one first and add it back after."""
        if self.dialect != "postgres":
            return []
        current = {self._key(c.name): c for c in cur.columns}
        retyped = {
            key
            for key, new in ((self._key(c.name), c) for c in tgt.columns)
            if key in current and self._column_type(current[key], cur) != self._column_type(new, tgt)
        }
        dependent = []
        for column in tgt.columns:
            old = current.get(self._key(column.name))
            if old is None or column.generated is None or self._expr(old.generated) != self._expr(column.generated):
                continue
            words = re.findall(r'"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*', column.generated)
            if {w[1:-1].replace('""', '"') if w.startswith('"') else w.lower() for w in words} & retyped:
                dependent.append(column)
        return dependent

    def _alter_column(self, cur: View, tgt: View, old: Column, new: Column, after_pk_drop: bool) -> None:
        table = self._tname(cur)
        type_changed = self._column_type(old, cur) != self._column_type(new, tgt)
        default_changed = self._default(old) != self._default(new)
        if self._serial(old, cur) and self._serial(new, tgt):
            default_changed = False
        null_changed = self._nullable(old, cur) != self._nullable(new, tgt)
        identity_changed = self._identity(old) != self._identity(new)
        collation_changed = self._collation_changed(old, new)
        generated_changed = self._expr(old.generated) != self._expr(new.generated)
        rebuilt = type_changed or null_changed or identity_changed or collation_changed or generated_changed
        if not (rebuilt or default_changed):
            return
        if self.dialect == "mysql":
            if rebuilt:
                statement = f"ALTER TABLE {table} MODIFY COLUMN {self._column_def(new, tgt)}"
                self._column_statement(cur, statement, later=after_pk_drop)
            elif new.default is None:
                self.out.alter_columns.append(f"ALTER TABLE {table} ALTER COLUMN {self._q(new.name)} DROP DEFAULT")
            else:
                self.out.alter_columns.append(
                    f"ALTER TABLE {table} ALTER COLUMN {self._q(new.name)} SET DEFAULT {new.default.strip()}"
                )
            return
        alter = f"ALTER TABLE {table} ALTER COLUMN {self._q(new.name)}"
        statements = []
        if identity_changed and old.identity is not None and new.identity is None:
            statements.append(f"{alter} DROP IDENTITY")
        if default_changed and old.default is not None and (new.default is None or new.identity is not None):
            statements.append(f"{alter} DROP DEFAULT")
        if type_changed or collation_changed:
            collate = f" COLLATE {self._q(new.collation)}" if collation_changed and new.collation else ""
            statements.append(f"{alter} TYPE {new.data_type}{collate}")
        if default_changed and new.default is not None and new.identity is None:
            statements.append(f"{alter} SET DEFAULT {new.default.strip()}")
        for statement in statements:
            self.out.alter_columns.append(statement)
        if null_changed:
            statement = f"{alter} {'DROP' if new.nullable else 'SET'} NOT NULL"
            self._column_statement(cur, statement, later=after_pk_drop)
        if identity_changed and new.identity is not None:
            how = new.identity.upper()
            verb = f"SET GENERATED {how}" if old.identity is not None else f"ADD GENERATED {how} AS IDENTITY"
            self.out.alter_columns.append(f"{alter} {verb}")

    def _column_statement(self, cur: View, statement: str, *, later: bool) -> None:
        """A column leaving a dropped primary key can only become nullable after the key is gone."""
        if later:
            self.after_pk_drop.setdefault(cur.key, []).append(statement)
        else:
            self.out.alter_columns.append(statement)
