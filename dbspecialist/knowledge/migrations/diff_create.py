"""Schema diff: the statements that create what only the target has (prerequisites, tables, indexes)."""

from __future__ import annotations

import re

from dbspecialist.adapters.catalog import (
    Catalog,
    Column,
    ForeignKey,
    Index,
)
from dbspecialist.knowledge.migrations.diff_base import DifferBase, View
from dbspecialist.knowledge.migrations.diff_types import (
    NEXTVAL,
    OPCLASS,
    ORDERING,
    PLAIN_NAME,
    SERIALS,
    strip_outer_parens,
)


class DifferCreate(DifferBase):
    """Prerequisites and new tables: CREATE TABLE, column definitions, indexes and foreign keys."""

    def _prerequisites(self) -> None:
        """PostgreSQL: extensions the target uses that are missing, stand-alone sequences (first and last)."""
        have = {e.name for e in self.current.extensions}
        for extension in sorted({e.name for e in self.target.extensions} - have - {"plpgsql"}):
            self.out.prelude.append(f"CREATE EXTENSION IF NOT EXISTS {self._q(extension)}")

        def standalone(catalog: Catalog, *, target: bool) -> dict[tuple[str, str], tuple[str | None, str]]:
            found = {}
            for seq in catalog.sequences:
                if seq.owned_by is None:
                    schema = self._schema(seq.schema_name, target=target)
                    found[self._table_key(schema, seq.name)] = (schema, seq.name)
            return found

        self._enum_types()
        cur = standalone(self.current, target=False)
        tgt = standalone(self.target, target=True)
        for key in sorted(set(tgt) - set(cur)):
            self.out.prelude.append(f"CREATE SEQUENCE {self._qualified(*tgt[key])}")
        for key in sorted(set(cur) - set(tgt)):
            if self.may_drop(*cur[key]):
                self.out.drop_sequences.append(f"DROP SEQUENCE {self._qualified(*cur[key])}")

    def _enum_types(self) -> None:
        """New enum labels as ALTER TYPE ... ADD VALUE in place; a removed or reordered label is refused.

        Labels are known only where the DDL parser read CREATE TYPE ... AS ENUM (table options `enum:<column>`);
        a live catalog does not carry them, so a type known on one side only is left to plan.py's note. PostgreSQL
        can add a label anywhere (BEFORE/AFTER) but not remove or move one: that needs a new type and a rewrite of
        every column using it, which is not planned automatically.
        """
        current, target = _enum_labels(self.current), _enum_labels(self.target)
        for name in sorted(target):
            wanted = target[name]
            if name not in current:
                if self.current.source == "ddl" and not any(name == key for key in current):
                    labels = ", ".join(_literal(label) for label in wanted)
                    self.out.prelude.append(f"CREATE TYPE {name} AS ENUM ({labels})")
                continue
            have = current[name]
            kept = [label for label in wanted if label in have]
            removed = [label for label in have if label not in wanted]
            if removed or kept != have:
                what = f"removes {', '.join(map(_literal, removed))}" if removed else "reorders its labels"
                raise ValueError(
                    f"the target {what} in enum type {name}: PostgreSQL can only add labels (ALTER TYPE ... ADD VALUE);"
                    " removing or reordering needs a new type and every column using it converted (a rewrite), "
                    "which is not planned automatically — plan it as `change`, or keep the labels in target_ddl"
                )
            for position, label in enumerate(wanted):
                if label in have:
                    continue
                after = next((wanted[i] for i in range(position - 1, -1, -1)), None)
                where = f" AFTER {_literal(after)}" if after is not None else f" BEFORE {_literal(have[0])}"
                self.out.prelude.append(f"ALTER TYPE {name} ADD VALUE IF NOT EXISTS {_literal(label)}{where}")
                have = (
                    [*have[: have.index(after) + 1], label, *have[have.index(after) + 1 :]] if after else [label, *have]
                )

    # ----------------------------------------------------------------- new tables

    def _dependency_order(self, views: list[View], *, target: bool) -> list[View]:
        """Referenced tables (and partition parents) before the tables that need them; cycles broken by name."""
        keys = {view.key for view in views}
        needs = {view.key: self._dependencies(view, target=target) & keys - {view.key} for view in views}
        ordered: list[View] = []
        done: set[tuple[str, str]] = set()
        remaining = sorted(views, key=lambda v: v.key)
        while remaining:
            ready = next((v for v in remaining if needs[v.key] <= done), remaining[0])
            ordered.append(ready)
            done.add(ready.key)
            remaining.remove(ready)
        return ordered

    def _dependencies(self, view: View, *, target: bool) -> set[tuple[str, str]]:
        deps = {self._fk_ref(fk, view, target=target)[0] for fk in view.foreign_keys}
        if view.table.partition_of:
            schema, _, name = view.table.partition_of.rpartition(".")
            deps.add(self._table_key(self._schema(schema or None, target=target), name))
        return deps

    def _create_tables(self, created: list[View]) -> None:
        existing = set(self.cur_views)
        for view in self._dependency_order(created, target=True):
            deferred = []
            inline = []
            for fk in view.foreign_keys:
                ref = self._fk_ref(fk, view, target=True)[0]
                if self.dialect == "sqlite" or ref in existing or ref == view.key:
                    inline.append(fk)
                else:
                    deferred.append(fk)
            self.out.create.append(self._create_table(view, view.name, inline))
            existing.add(view.key)
            if self.dialect != "mysql" and not view.table.partition_of:
                for index in sorted(view.indexes, key=lambda i: self._key(i.name)):
                    self.out.create.append(self._create_index(view, index))
            for fk in deferred:
                self.out.foreign_keys.append(f"ALTER TABLE {self._tname(view)} ADD {self._fk_def(fk, view)}")

    def _create_table(self, view: View, name: str, foreign_keys: list[ForeignKey]) -> str:
        table = view.table
        qualified = self._qualified(view.schema, name)
        if self.dialect == "postgres" and table.partition_of:
            schema, _, parent = table.partition_of.rpartition(".")
            parent_name = self._qualified(self._schema(schema or None, target=True), parent)
            bound = table.options.get("partition_bound") or "DEFAULT"
            tail = f" PARTITION BY {table.partition_key}" if table.partition_key else ""
            return f"CREATE TABLE {qualified} PARTITION OF {parent_name} {bound}{tail}"
        inline_pk = self._sqlite_inline_pk(view)
        parts = [self._column_def(c, view, inline_pk=inline_pk) for c in view.columns]
        if view.primary_key is not None and inline_pk is None:
            parts.append(self._named(view.primary_key.name, f"PRIMARY KEY ({self._cols(view.primary_key.columns)})"))
        for unique in view.uniques:
            parts.append(self._named(unique.name, f"UNIQUE ({self._cols(unique.columns)})"))
        if self.dialect == "mysql":
            for index in sorted(view.indexes, key=lambda i: self._key(i.name)):
                kind = {"fulltext": "FULLTEXT KEY", "spatial": "SPATIAL KEY"}.get((index.method or "").lower(), "KEY")
                kind = "UNIQUE KEY" if index.unique else kind
                parts.append(f"{kind} {self._q(index.name)} ({self._index_columns(index)})")
        for check in view.checks:  # a new table is empty: its constraints are valid from the start
            parts.append(self._named(check.name, f"CHECK ({strip_outer_parens(check.expression)})"))
        for fk in foreign_keys:
            parts.append(self._fk_def(fk, view, not_valid=False))
        persistence = "UNLOGGED " if table.options.get("persistence") == "unlogged" else ""
        body = ",\n".join(f"    {part}" for part in parts)
        text = f"CREATE {persistence}TABLE {qualified} (\n{body}\n)"
        if self.dialect == "postgres":
            if table.partition_key:
                text += f" PARTITION BY {table.partition_key}"
            if table.options.get("inherits"):
                parents = [p.rpartition(".") for p in table.options["inherits"].split(",")]
                names = [self._qualified(self._schema(s or None, target=True), n) for s, _, n in parents]
                text += f" INHERITS ({', '.join(names)})"
        elif self.dialect == "mysql" and table.options.get("engine"):
            text += f" ENGINE={table.options['engine']}"
        elif self.dialect == "sqlite":
            tails = [w for w, o in (("WITHOUT ROWID", "without_rowid"), ("STRICT", "strict")) if table.options.get(o)]
            text += " " + ", ".join(tails) if tails else ""
        return text

    def _named(self, name: str | None, body: str) -> str:
        if name and not (self.dialect == "mysql" and body.startswith("PRIMARY KEY")):
            return f"CONSTRAINT {self._q(name)} {body}"
        return body

    def _sqlite_inline_pk(self, view: View) -> str | None:
        """SQLite AUTOINCREMENT must be written on the column: `id INTEGER PRIMARY KEY AUTOINCREMENT`."""
        pk = view.primary_key
        if self.dialect != "sqlite" or pk is None or len(pk.columns) != 1:
            return None
        return pk.columns[0] if view.table.options.get("autoincrement") else None

    def _serial(self, column: Column, view: View) -> str | None:
        """PostgreSQL: integer + nextval('<table>_<column>_seq') is how a serial column reads back."""
        if self.dialect != "postgres" or column.default is None:
            return None
        found = NEXTVAL.match(column.default.strip())
        serial = SERIALS.get(self._column_type(column, view))
        if found and serial and found.group(1) == f"{view.name}_{column.name}_seq"[:63]:
            return serial
        return None

    def _column_def(self, column: Column, view: View, *, inline_pk: str | None = None) -> str:
        parts = [self._q(column.name)]
        serial = self._serial(column, view)
        parts.append(serial or column.data_type)
        if self.dialect == "sqlite" and inline_pk is not None and self._key(inline_pk) == self._key(column.name):
            parts.append("PRIMARY KEY AUTOINCREMENT")
        if column.collation and not (self.dialect == "mysql" and column.data_type.lower() == "json"):
            collation = self._q(column.collation) if self.dialect == "postgres" else column.collation
            parts.append(f"COLLATE {collation}")
        if column.generated is not None:
            stored = " STORED" if self.dialect == "postgres" else ""
            parts.append(f"GENERATED ALWAYS AS ({strip_outer_parens(column.generated)}){stored}")
        elif self.dialect == "postgres" and column.identity is not None:
            parts.append(f"GENERATED {column.identity.upper()} AS IDENTITY")
        if column.default is not None and serial is None and column.generated is None and not self._pg_identity(column):
            parts.append(f"DEFAULT {self._default_text(column.default)}")
        if not column.nullable and serial is None and not self._pg_identity(column):
            parts.append("NOT NULL")
        if self.dialect == "mysql" and column.identity is not None:
            parts.append("AUTO_INCREMENT")
        if self.dialect == "mysql" and column.comment:
            parts.append("COMMENT '" + column.comment.replace("'", "''") + "'")
        return " ".join(parts)

    def _pg_identity(self, column: Column) -> bool:
        return self.dialect == "postgres" and column.identity is not None

    def _default_text(self, default: str) -> str:
        """SQLite wants an expression default in parentheses: `DEFAULT (lower('X'))`."""
        text = default.strip()
        if self.dialect == "sqlite" and "(" in text and not text.startswith("("):
            return f"({text})"
        return text

    def _index_columns(self, index: Index) -> str:
        return ", ".join(self._index_element(c) for c in index.columns)

    def _index_element(self, text: str) -> str:
        if PLAIN_NAME.match(text):
            return self._q(text)
        if self.dialect != "postgres":
            return text
        found = ORDERING.search(text)
        base, suffix = (text[: found.start()], text[found.start() :]) if found else (text, "")
        opclass = OPCLASS.match(base)
        if opclass:
            base, suffix = opclass.group(1), f" {opclass.group(2)}{suffix}"
        base = base.strip()
        if PLAIN_NAME.match(base):
            base = self._q(base)
        elif not (base.startswith('"') or re.fullmatch(r"[\w.]+\(.*\)", base, re.DOTALL) or base.startswith("(")):
            base = f"({base})"
        return base + suffix

    def _create_index(self, view: View, index: Index) -> str:
        method = (index.method or "").lower()
        if self.dialect == "mysql":
            kind = "UNIQUE " if index.unique else {"fulltext": "FULLTEXT ", "spatial": "SPATIAL "}.get(method, "")
        else:
            kind = "UNIQUE " if index.unique else ""
        name = self._q(index.name)
        using = f"USING {method} " if self.dialect == "postgres" and method not in ("", "btree") else ""
        text = f"CREATE {kind}INDEX {name} ON {self._tname(view)} {using}({self._index_columns(index)})"
        if index.include and self.dialect == "postgres":
            text += f" INCLUDE ({self._cols(index.include)})"
        if index.predicate and self.dialect != "mysql":
            text += f" WHERE {strip_outer_parens(index.predicate)}"
        return text

    def _fk_def(self, fk: ForeignKey, view: View, *, not_valid: bool = True) -> str:
        body = f"FOREIGN KEY ({self._cols(fk.columns)}) {self._references(fk, view)}"
        if not_valid and not fk.validated and self.dialect == "postgres":
            body += " NOT VALID"
        return self._named(fk.name, body)

    def _references(self, fk: ForeignKey, view: View) -> str:
        schema = self._schema(fk.ref_schema or view.table.schema_name, target=True)
        ref_columns = list(fk.ref_columns) or list(self._fk_ref(fk, view, target=True)[1])
        ref_list = f" ({self._cols(ref_columns)})" if ref_columns else ""
        body = f"REFERENCES {self._qualified(schema, fk.ref_table)}{ref_list}"
        if fk.on_delete != "no action":
            body += f" ON DELETE {fk.on_delete.upper()}"
        if fk.on_update != "no action":
            body += f" ON UPDATE {fk.on_update.upper()}"
        if fk.deferrable and self.dialect != "mysql":
            body += " DEFERRABLE"
        return body


def _enum_labels(catalog: Catalog) -> dict[str, list[str]]:
    """Enum type (as the columns name it) → its labels in order, from the DDL parser's `enum:<column>` options."""
    found: dict[str, list[str]] = {}
    for table in catalog.tables:
        for column in table.columns:
            labels = table.options.get(f"enum:{column.name}")
            if labels is not None:
                found.setdefault(column.data_type.removesuffix("[]"), labels.split(","))
    return found


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
