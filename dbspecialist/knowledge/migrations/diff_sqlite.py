"""Schema diff, SQLite: deciding on and writing the table rebuild (SQLite docs, ALTER TABLE), and triggers.

Collations compare as SQLite applies them (no COLLATE is BINARY), a generated column that changes between STORED
and VIRTUAL is a rebuild, and a STORED one is written STORED. Triggers of tables on both sides are compared by
their normalised SQL: a changed one is dropped and created again where indexes are, a removed one is dropped
before columns are, a new table's come after the tables, and a rebuilt table gets the target's triggers.
Triggers on views are not compared (views are not).
"""

from __future__ import annotations

import re

from dbspecialist.adapters.catalog import (
    Column,
    ForeignKey,
    Trigger,
)
from dbspecialist.knowledge.migrations.diff_base import View
from dbspecialist.knowledge.migrations.diff_constraints import DifferConstraints
from dbspecialist.knowledge.migrations.diff_types import (
    SQLITE_OPTIONS,
    strip_outer_parens,
    text_expr,
)


class DifferSqlite(DifferConstraints):
    """SQLite: when ALTER TABLE cannot make a change, the documented table rebuild; triggers."""

    # ----------------------------------------------------------------- SQLite: the table rebuild

    def _needs_rebuild(self, cur: View, tgt: View) -> bool:
        """SQLite's ALTER TABLE adds and drops plain columns only; anything else rebuilds the table."""
        if any(cur.table.options.get(o) != tgt.table.options.get(o) for o in SQLITE_OPTIONS):
            return True
        current = {self._key(c.name): c for c in cur.columns}
        wanted = {self._key(c.name): c for c in tgt.columns}
        for key, new in wanted.items():
            old = current.get(key)
            if old is None:
                if not self._sqlite_can_add(new, tgt):
                    return True
            elif (
                self._column_type(old, cur) != self._column_type(new, tgt)
                or self._nullable(old, cur) != self._nullable(new, tgt)
                or self._default(old) != self._default(new)
                or self._expr(old.generated) != self._expr(new.generated)
                or {old.generated_kind, new.generated_kind} == {"stored", "virtual"}  # both known, changed
                or self._sqlite_collation(old) != self._sqlite_collation(new)
            ):
                return True
        for key in set(current) - set(wanted):
            if self._sqlite_column_is_bound(key, cur):
                return True
        if (cur.primary_key and self._pk_sig(cur.primary_key)) != (tgt.primary_key and self._pk_sig(tgt.primary_key)):
            return True
        uniques = [{tuple(self._key(c) for c in u.columns) for u in v.uniques} for v in (cur, tgt)]
        checks = [{self._expr(c.expression) for c in v.checks} for v in (cur, tgt)]
        old_fks = {self._fk_sig(fk, cur, target=False) for fk in cur.foreign_keys}
        inline = [id(fk) for fk in self._sqlite_inline_fks(cur, tgt).values()]
        new_fks = {self._fk_sig(fk, tgt, target=True) for fk in tgt.foreign_keys if id(fk) not in inline}
        return uniques[0] != uniques[1] or checks[0] != checks[1] or old_fks != new_fks

    @staticmethod
    def _sqlite_collation(column: Column) -> str:
        """The collation SQLite applies: BINARY unless the column says otherwise (names ignore case)."""
        return (column.collation or "binary").lower()

    def _column_def(self, column: Column, view: View, *, inline_pk: str | None = None) -> str:
        """The shared column definition; on SQLite a STORED generated column says so (VIRTUAL is the default)."""
        text = super()._column_def(column, view, inline_pk=inline_pk)
        if self.dialect == "sqlite" and column.generated is not None and column.generated_kind == "stored":
            clause = f"GENERATED ALWAYS AS ({strip_outer_parens(column.generated)})"
            text = text.replace(clause, f"{clause} STORED", 1)
        return text

    def _sqlite_inline_fks(self, cur: View, tgt: View) -> dict[str, ForeignKey]:
        """New one-column foreign keys on new columns: `ADD COLUMN c ... REFERENCES p (id)` needs no rebuild."""
        old_columns = {self._key(c.name) for c in cur.columns}
        defaults = {self._key(c.name): c.default for c in tgt.columns}
        old_fks = {self._fk_sig(fk, cur, target=False) for fk in cur.foreign_keys}
        inline = {}
        for fk in tgt.foreign_keys:
            key = self._key(fk.columns[0]) if len(fk.columns) == 1 else None
            if key is None or key in old_columns or self._expr(defaults.get(key)) is not None:
                continue
            if self._fk_sig(fk, tgt, target=True) not in old_fks:
                inline[key] = fk
        return inline

    def _sqlite_can_add(self, column: Column, view: View) -> bool:
        key = self._key(column.name)
        if view.primary_key and key in self._pk_sig(view.primary_key):
            return False
        if any(key in (self._key(c) for c in u.columns) for u in view.uniques):
            return False
        default = self._expr(column.default)
        if not column.nullable and default is None:
            return False
        if default is not None and ("(" in default or default.startswith("current_")):
            return False
        return column.generated is None

    def _sqlite_column_is_bound(self, key: str, view: View) -> bool:
        """A column SQLite's DROP COLUMN refuses: in a key, a UNIQUE, a foreign key, a CHECK or a generated column."""
        if view.primary_key and key in self._pk_sig(view.primary_key):
            return True
        if any(key in (self._key(c) for c in u.columns) for u in view.uniques):
            return True
        if any(key in (self._key(c) for c in fk.columns) for fk in view.foreign_keys):
            return True
        texts = [c.expression for c in view.checks] + [c.generated for c in view.columns if c.generated]
        words = {self._key(w) for text in texts for w in re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", text)}
        return key in words

    def _rebuild(self, cur: View, tgt: View) -> list[str]:
        """Create the new table, copy the shared columns, drop the old one, rename, re-create indexes and triggers."""
        temporary = f"new_{tgt.name}"
        old_columns = {self._key(c.name) for c in cur.columns}
        shared = [c.name for c in tgt.columns if self._key(c.name) in old_columns and c.generated is None]
        current_names = {self._key(c.name): c.name for c in cur.columns}
        source = ", ".join(self._q(current_names[self._key(name)]) for name in shared)
        statements = [
            self._create_table(tgt, temporary, list(tgt.foreign_keys)),
            f"INSERT INTO {self._qualified(tgt.schema, temporary)} ({self._cols(shared)}) "
            f"SELECT {source} FROM {self._tname(cur)}",
            f"DROP TABLE {self._tname(cur)}",
            f"ALTER TABLE {self._qualified(tgt.schema, temporary)} RENAME TO {self._q(tgt.name)}",
        ]
        for index in sorted(tgt.indexes, key=lambda i: self._key(i.name)):
            statements.append(self._create_index(tgt, index))
        statements += [self._create_trigger(t) for t in self._triggers(tgt)]
        return statements

    # ----------------------------------------------------------------- SQLite: triggers

    def _triggers(self, view: View) -> list[Trigger]:
        """The triggers of a table that can be written out (their SQL is a CREATE TRIGGER), by name."""
        found = [t for t in view.table.triggers if t.definition and t.definition.lstrip().upper().startswith("CREATE")]
        return sorted(found, key=lambda t: self._key(t.name))

    def _create_trigger(self, trigger: Trigger) -> str:
        return (trigger.definition or "").strip().rstrip(";").strip()

    def _trigger_sig(self, trigger: Trigger) -> str:
        return " ".join(text_expr(self._create_trigger(trigger)).split())

    def _create_tables(self, created: list[View]) -> None:
        """New tables as the layer below writes them; on SQLite their triggers once every table exists."""
        super()._create_tables(created)
        if self.dialect == "sqlite":
            for view in created:
                self.out.indexes += [self._create_trigger(t) for t in self._triggers(view)]

    def _diff_indexes(self, cur: View, tgt: View) -> None:
        """Changed indexes (the layer below); on SQLite also the triggers, which hang off the table the same way."""
        super()._diff_indexes(cur, tgt)
        if self.dialect == "sqlite":
            self._diff_triggers(cur, tgt)

    def _diff_triggers(self, cur: View, tgt: View) -> None:
        """Changed triggers dropped and created again, new ones created, removed ones dropped before columns."""
        old = {self._key(t.name): t for t in self._triggers(cur)}
        for trigger in self._triggers(tgt):
            before = old.pop(self._key(trigger.name), None)
            if before is not None and self._trigger_sig(before) == self._trigger_sig(trigger):
                continue
            if before is not None:
                self.out.indexes.append(f"DROP TRIGGER {self._qualified(cur.schema, before.name)}")
            self.out.indexes.append(self._create_trigger(trigger))
        for trigger in old.values():
            self.out.drop_indexes.append(f"DROP TRIGGER {self._qualified(cur.schema, trigger.name)}")
