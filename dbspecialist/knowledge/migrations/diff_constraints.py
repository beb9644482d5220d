"""Schema diff: indexes and table constraints compared pairwise, then dropped, renamed or re-created."""

from __future__ import annotations

import re
from collections.abc import Hashable

from dbspecialist.adapters.catalog import (
    CheckConstraint,
    ForeignKey,
    Index,
    UniqueConstraint,
)
from dbspecialist.knowledge.migrations.diff_base import View, match
from dbspecialist.knowledge.migrations.diff_create import DifferCreate
from dbspecialist.knowledge.migrations.diff_types import (
    strip_outer_parens,
)


class DifferConstraints(DifferCreate):
    """Changed indexes, primary keys, UNIQUE, CHECK and foreign keys of a table on both sides."""

    def _diff_indexes(self, cur: View, tgt: View) -> None:
        pairs, dropped, added = match(
            sorted(cur.indexes, key=lambda i: self._key(i.name)),
            sorted(tgt.indexes, key=lambda i: self._key(i.name)),
            lambda i: self._key(i.name),
            self._index_sig,
        )
        for old, new in pairs:
            if self._index_sig(old) != self._index_sig(new):
                self.out.indexes.append(self._drop_index(cur, old))
                self.out.indexes.append(self._create_index(cur, new))
            elif self._key(old.name) != self._key(new.name) and self.dialect == "sqlite":  # no RENAME INDEX
                self.out.indexes.append(self._create_index(cur, new))
                self.out.drop_indexes.append(self._drop_index(cur, old))
            elif self._key(old.name) != self._key(new.name):
                self.out.indexes.append(self._rename_index(cur, old, new))
        for index in added:
            self.out.indexes.append(self._create_index(cur, index))
        created = [new for old, new in pairs if self._index_sig(old) != self._index_sig(new)] + added
        for index in dropped:
            if not self._mysql_drops_it(cur, index, created):
                self.out.drop_indexes.append(self._drop_index(cur, index))

    def _mysql_drops_it(self, view: View, index: Index, created: list[Index]) -> bool:
        """MySQL silently drops the index it made for a foreign key once a new index can serve the key instead."""
        if self.dialect != "mysql":
            return False
        fk = next((fk for fk in view.foreign_keys if fk.name and self._key(fk.name) == self._key(index.name)), None)
        if fk is None:
            return False
        wanted = [self._key(c) for c in fk.columns]
        for new in created:
            leading = [self._key(re.sub(r"\(\d+\)$", "", c).strip()) for c in new.columns[: len(wanted)]]
            if leading == wanted:
                return True
        return False

    def _drop_index(self, view: View, index: Index) -> str:
        if self.dialect == "mysql":
            return f"DROP INDEX {self._q(index.name)} ON {self._tname(view)}"
        return f"DROP INDEX {self._qualified(view.schema, index.name)}"

    def _rename_index(self, view: View, old: Index, new: Index) -> str:
        if self.dialect == "mysql":
            return f"ALTER TABLE {self._tname(view)} RENAME INDEX {self._q(old.name)} TO {self._q(new.name)}"
        return f"ALTER INDEX {self._qualified(view.schema, old.name)} RENAME TO {self._q(new.name)}"

    def _rename_constraint(self, view: View, old: str | None, new: str | None) -> str | None:
        if self.dialect != "postgres" or not old or not new or old == new:
            return None
        return f"ALTER TABLE {self._tname(view)} RENAME CONSTRAINT {self._q(old)} TO {self._q(new)}"

    def _drop_constraint(self, view: View, name: str | None, fallback: str) -> str:
        return f"ALTER TABLE {self._tname(view)} DROP CONSTRAINT {self._q(name or fallback)}"

    def _diff_primary_key(self, cur: View, tgt: View) -> None:
        table = self._tname(cur)
        old, new = cur.primary_key, tgt.primary_key
        later = self.after_pk_drop.pop(cur.key, [])
        if old is not None and new is not None and self._pk_sig(old) == self._pk_sig(new):
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.primary_keys.extend([renamed] if renamed else [])
            return
        if self.dialect == "mysql":
            if old is not None and new is not None:
                self.out.primary_keys.append(
                    f"ALTER TABLE {table} DROP PRIMARY KEY, ADD PRIMARY KEY ({self._cols(new.columns)})"
                )
                self.out.primary_keys.extend(later)
            elif new is not None:
                self.out.primary_keys.append(f"ALTER TABLE {table} ADD PRIMARY KEY ({self._cols(new.columns)})")
            elif old is not None:
                self.out.drop_constraints.append(f"ALTER TABLE {table} DROP PRIMARY KEY")
                self.out.drop_constraints.extend(later)
            return
        bucket = self.out.primary_keys if new is not None else self.out.drop_constraints
        if old is not None:
            bucket.append(self._drop_constraint(cur, old.name, f"{cur.name}_pkey"))
            bucket.extend(later)
        if new is not None:
            body = self._named(new.name, f"PRIMARY KEY ({self._cols(new.columns)})")
            self.out.primary_keys.append(f"ALTER TABLE {table} ADD {body}")

    def _diff_uniques(self, cur: View, tgt: View) -> None:
        def sig(unique: UniqueConstraint) -> Hashable:
            return tuple(self._key(c) for c in unique.columns)

        table = self._tname(cur)
        pairs, dropped, added = match(cur.uniques, tgt.uniques, lambda u: self._name(u.name), sig)
        for old, new in pairs:
            if sig(old) != sig(new):
                self.out.uniques.append(self._drop_constraint(cur, old.name, self._unique_name(cur, old)))
                self.out.uniques.append(f"ALTER TABLE {table} ADD {self._unique_def(new)}")
                continue
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.uniques.extend([renamed] if renamed else [])
        for unique in added:
            self.out.uniques.append(f"ALTER TABLE {table} ADD {self._unique_def(unique)}")
        for unique in dropped:
            self.out.drop_constraints.append(self._drop_constraint(cur, unique.name, self._unique_name(cur, unique)))

    def _unique_def(self, unique: UniqueConstraint) -> str:
        return self._named(unique.name, f"UNIQUE ({self._cols(unique.columns)})")

    def _unique_name(self, view: View, unique: UniqueConstraint) -> str:
        return f"{view.name}_{'_'.join(unique.columns)}_key"[:63]

    def _diff_checks(self, cur: View, tgt: View) -> None:
        def sig(check: CheckConstraint) -> Hashable:
            return self._expr(check.expression)

        table = self._tname(cur)
        pairs, dropped, added = match(cur.checks, tgt.checks, lambda c: self._name(c.name), sig)
        for old, new in pairs:
            if sig(old) != sig(new):
                self.out.checks.append(self._drop_constraint(cur, old.name, self._check_name(cur, old)))
                self.out.checks.append(f"ALTER TABLE {table} ADD {self._check_def(new)}")
                continue
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.checks.extend([renamed] if renamed else [])
            if self.dialect == "postgres" and not old.validated and new.validated:
                self.out.checks.append(f"ALTER TABLE {table} VALIDATE CONSTRAINT {self._q(new.name or old.name or '')}")
        for check in added:
            self.out.checks.append(f"ALTER TABLE {table} ADD {self._check_def(check)}")
        for check in dropped:
            self.out.drop_constraints.append(self._drop_constraint(cur, check.name, self._check_name(cur, check)))

    def _check_def(self, check: CheckConstraint) -> str:
        not_valid = " NOT VALID" if self.dialect == "postgres" and not check.validated else ""
        return self._named(check.name, f"CHECK ({strip_outer_parens(check.expression)}){not_valid}")

    def _check_name(self, view: View, check: CheckConstraint) -> str:
        """PostgreSQL's name for an unnamed CHECK: `<table>_<first column it mentions>_check`."""
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", check.expression)
        columns = {self._key(c.name): c.name for c in view.columns}
        first = next((columns[self._key(w)] for w in words if self._key(w) in columns), None)
        return f"{view.name}_{first}_check"[:63] if first else f"{view.name}_check"[:63]

    def _diff_foreign_keys(self, cur: View, tgt: View) -> None:
        def old_sig(fk: ForeignKey) -> Hashable:
            return self._fk_sig(fk, cur, target=False)

        def new_sig(fk: ForeignKey) -> Hashable:
            return self._fk_sig(fk, tgt, target=True)

        table = self._tname(cur)
        pairs, dropped, added = match(
            cur.foreign_keys, tgt.foreign_keys, lambda fk: self._name(fk.name), old_sig, new_sig
        )
        for old, new in pairs:
            if old_sig(old) != new_sig(new):
                self.out.foreign_keys.append(self._drop_fk(cur, old))
                self.out.foreign_keys.append(f"ALTER TABLE {table} ADD {self._fk_def(new, tgt)}")
                continue
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.foreign_keys.extend([renamed] if renamed else [])
            if self.dialect == "postgres" and not old.validated and new.validated:
                name = self._q(new.name or old.name or "")
                self.out.foreign_keys.append(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        for fk in added:
            self.out.foreign_keys.append(f"ALTER TABLE {table} ADD {self._fk_def(fk, tgt)}")
        for fk in dropped:
            self.out.drop_foreign_keys.append(self._drop_fk(cur, fk))

    def _drop_fk(self, view: View, fk: ForeignKey) -> str:
        name = fk.name or f"{view.name}_{'_'.join(fk.columns)}_fkey"[:63]
        if self.dialect == "mysql":
            return f"ALTER TABLE {self._tname(view)} DROP FOREIGN KEY {self._q(name)}"
        return self._drop_constraint(view, name, name)
