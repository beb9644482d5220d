"""A SQLite table's definition as a rebuild will create it: built from the catalog, changed by ALTER actions.

The rebuild writes the new table out from this model (sqlite_render) and the catalog entry after the change is
made from it too (`table_from_model`), so later statements of the same migration see the changed table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from dbspecialist.adapters.catalog import CheckConstraint, Column, ForeignKey, Index, PrimaryKey, Table, Trigger
from dbspecialist.adapters.catalog import UniqueConstraint as CatalogUnique
from dbspecialist.knowledge.migrations.model import MigrationInputError
from dbspecialist.knowledge.migrations.sqlite_clauses import AlterAction, ColumnDefinition
from dbspecialist.knowledge.migrations.sqlite_steps import mentions, q


@dataclass
class ColumnModel:
    """A column of the rebuilt table, and where its values come from in the copy."""

    name: str
    type_text: str
    not_null: bool = False
    default: str | None = None
    collation: str | None = None
    generated: str | None = None
    stored: bool | None = None  # None: the catalog does not say STORED or VIRTUAL
    source: str | None = None  # what to copy from the old table (a column or a USING expression); None: new


@dataclass
class TableModel:
    """A table's definition as the rebuild will create it, built from the catalog and changed by the actions."""

    name: str
    columns: list[ColumnModel]
    primary_key: list[str] = field(default_factory=list)
    autoincrement: bool = False
    uniques: list[tuple[str | None, list[str]]] = field(default_factory=list)
    checks: list[tuple[str | None, str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    without_rowid: bool = False
    strict: bool = False
    indexes: list[Index] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    triggers_known: bool = True

    def column(self, name: str) -> ColumnModel | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    def require(self, name: str) -> ColumnModel:
        found = self.column(name)
        if found is None:
            raise MigrationInputError(f"table {self.name} has no column {name!r} in the current schema")
        return found

    @property
    def rowid_alias(self) -> str | None:
        """The INTEGER PRIMARY KEY column that is the rowid, if any."""
        if self.without_rowid or len(self.primary_key) != 1:
            return None
        col = self.column(self.primary_key[0])
        return col.name if col is not None and col.type_text.strip().upper() == "INTEGER" else None

    def copy_for_rebuild(self) -> TableModel:
        """A deep-enough copy whose columns are all copied from the old table by name (generated ones excepted)."""
        columns = [replace(c, source=None if c.generated is not None else q(c.name)) for c in self.columns]
        return replace(
            self,
            columns=columns,
            primary_key=list(self.primary_key),
            uniques=[(n, list(c)) for n, c in self.uniques],
            checks=list(self.checks),
            foreign_keys=list(self.foreign_keys),
            indexes=list(self.indexes),
            triggers=list(self.triggers),
        )


def model_from_table(table: Table, *, triggers_known: bool) -> TableModel:
    """The model of a catalog table (its own indexes and triggers included)."""
    columns = [
        ColumnModel(
            name=c.name,
            type_text=c.data_type,
            not_null=not c.nullable,
            default=c.default,
            collation=c.collation,
            generated=c.generated,
            stored=None if c.generated is None or c.generated_kind is None else c.generated_kind == "stored",
        )
        for c in sorted(table.columns, key=lambda c: c.ordinal if c.ordinal is not None else 0)
    ]
    options = table.options
    return TableModel(
        name=table.name,
        columns=columns,
        primary_key=list(table.primary_key.columns) if table.primary_key else [],
        autoincrement=options.get("autoincrement") == "true",
        uniques=[(u.name, list(u.columns)) for u in table.unique_constraints],
        checks=[(c.name, c.expression) for c in table.check_constraints],
        foreign_keys=list(table.foreign_keys),
        without_rowid=options.get("without_rowid") == "true",
        strict=options.get("strict") == "true",
        indexes=[i for i in table.indexes if i.origin == "index" and not i.name.startswith("sqlite_autoindex")],
        triggers=list(table.triggers),
        triggers_known=triggers_known or bool(table.triggers),
    )


def table_from_model(model: TableModel, previous: Table | None) -> Table:
    """The catalog entry after the change (statistics carried over), for the statements that follow."""
    options = {k: v for k, v in (previous.options if previous else {}).items() if k not in ("autoincrement",)}
    if model.autoincrement:
        options["autoincrement"] = "true"
    columns = [
        Column(
            name=c.name,
            data_type=c.type_text,
            nullable=not c.not_null,
            default=c.default,
            ordinal=i,
            generated=c.generated,
            generated_kind=None if c.generated is None or c.stored is None else "stored" if c.stored else "virtual",
            collation=c.collation,
        )
        for i, c in enumerate(model.columns)
    ]
    return Table(
        schema_name=previous.schema_name if previous else None,
        name=model.name,
        columns=columns,
        primary_key=PrimaryKey(columns=model.primary_key) if model.primary_key else None,
        foreign_keys=model.foreign_keys,
        unique_constraints=[CatalogUnique(name=n, columns=c) for n, c in model.uniques],
        check_constraints=[CheckConstraint(name=n, expression=e) for n, e in model.checks],
        indexes=model.indexes,
        triggers=model.triggers,
        row_estimate=previous.row_estimate if previous else None,
        row_estimate_source=previous.row_estimate_source if previous else None,
        table_bytes=previous.table_bytes if previous else None,
        index_bytes=previous.index_bytes if previous else None,
        options=options,
    )


def apply_action(model: TableModel, action: AlterAction, notes: list[str]) -> None:
    """Change the rebuild model as `action` asks."""
    kind = action.kind
    if kind == "add_column" and action.definition is not None:
        _add_to_model(model, action.definition)
    elif kind == "drop_column" and action.column:
        _drop_from_model(model, action.column, notes)
    elif kind == "rename_column" and action.column and action.new_name:
        _rename_in_model(model, action.column, action.new_name, notes)
    elif kind == "alter_type" and action.column and action.type_text:
        col = model.require(action.column)
        col.type_text = action.type_text
        if action.using:
            col.source = action.using
        notes.append(
            f"{model.name}.{col.name} becomes {action.type_text}: values are converted by the new column's type "
            "affinity as they are copied; values that do not convert keep their storage class"
            + (" — in a STRICT table they make the copy fail." if model.strict else ".")
        )
    elif kind in ("set_not_null", "drop_not_null") and action.column:
        model.require(action.column).not_null = kind == "set_not_null"
    elif kind in ("set_default", "drop_default") and action.column:
        model.require(action.column).default = action.default if kind == "set_default" else None
    elif kind == "add_check" and action.expression:
        model.checks.append((action.constraint_name, action.expression))
    elif kind == "add_unique":
        model.uniques.append((action.constraint_name, list(action.columns)))
    elif kind == "add_primary_key":
        if model.primary_key:
            notes.append(f"The existing PRIMARY KEY ({', '.join(model.primary_key)}) is replaced.")
        model.primary_key = list(action.columns)
        for name in action.columns:
            model.require(name)
    elif kind == "add_foreign_key" and action.foreign_key is not None:
        model.foreign_keys.append(action.foreign_key)
    elif kind == "drop_constraint" and action.constraint_name:
        _drop_constraint(model, action.constraint_name)


def _add_to_model(model: TableModel, definition: ColumnDefinition) -> None:
    if model.column(definition.name) is not None:
        raise MigrationInputError(f"table {model.name} already has a column {definition.name!r}")
    model.columns.append(
        ColumnModel(
            name=definition.name,
            type_text=definition.type_text,
            not_null=definition.not_null,
            default=definition.default,
            collation=definition.collation,
            generated=definition.generated,
            stored=definition.stored if definition.generated else None,
            source=None,
        )
    )
    if definition.primary_key:
        model.primary_key = [definition.name]
        model.autoincrement = definition.autoincrement
    if definition.unique:
        model.uniques.append((None, [definition.name]))
    model.checks += [(None, c) for c in definition.checks]
    if definition.references is not None:
        model.foreign_keys.append(definition.references)


def _drop_from_model(model: TableModel, column: str, notes: list[str]) -> None:
    col = model.require(column)
    model.columns.remove(col)
    name = column.lower()
    if name in {c.lower() for c in model.primary_key}:
        notes.append(f"{model.name} loses its PRIMARY KEY ({', '.join(model.primary_key)}) with {column}.")
        model.primary_key = []
        model.without_rowid = False
    for constraint_name, cols in list(model.uniques):
        if name in {c.lower() for c in cols}:
            model.uniques.remove((constraint_name, cols))
            notes.append(f"The UNIQUE ({', '.join(cols)}) constraint goes with {column}.")
    for check in list(model.checks):
        if mentions(check[1], column):
            model.checks.remove(check)
            notes.append(f"CHECK ({check[1]}) uses {column} and is left out.")
    for fk in list(model.foreign_keys):
        if name in {c.lower() for c in fk.columns}:
            model.foreign_keys.remove(fk)
            notes.append(f"The foreign key ({', '.join(fk.columns)}) → {fk.ref_table} goes with {column}.")
    for index in list(model.indexes):
        if any(mentions(c, column) for c in index.columns) or mentions(index.predicate, column):
            model.indexes.remove(index)
            notes.append(f"Index {index.name} uses {column} and is not recreated.")
    for trigger in list(model.triggers):
        if mentions(trigger.definition, column):
            model.triggers.remove(trigger)
            notes.append(f"Trigger {trigger.name} uses {column} and is not recreated: rewrite it without the column.")
    for other in model.columns:
        if other.generated and mentions(other.generated, column):
            raise MigrationInputError(f"generated column {other.name} of {model.name} uses {column}: change it first")


def _rename_in_model(model: TableModel, old: str, new: str, notes: list[str]) -> None:
    """RENAME COLUMN folded into a rebuild (SQLite before 3.25.0): the new name everywhere the table uses it."""
    model.require(old).name = new

    def swap(names: list[str]) -> list[str]:
        return [new if n.lower() == old.lower() else n for n in names]

    def text(sql: str) -> str:
        return re.sub(rf"(?<![\w$]){re.escape(old)}(?![\w$])", new, sql, flags=re.I)

    model.primary_key = swap(model.primary_key)
    model.uniques = [(n, swap(c)) for n, c in model.uniques]
    model.checks = [(n, text(e)) for n, e in model.checks]
    model.foreign_keys = [fk.model_copy(update={"columns": swap(fk.columns)}) for fk in model.foreign_keys]
    model.indexes = [
        i.model_copy(update={"columns": [text(c) for c in i.columns], "predicate": i.predicate and text(i.predicate)})
        for i in model.indexes
    ]
    model.triggers = [t.model_copy(update={"definition": t.definition and text(t.definition)}) for t in model.triggers]
    notes.append(
        f"{old} is renamed to {new} by textual replacement in CHECKs, indexes and triggers; review them, and rewrite "
        "views and other tables' triggers that use the old name."
    )


def _drop_constraint(model: TableModel, name: str) -> None:
    lowered = name.lower()
    for check in model.checks:
        if (check[0] or "").lower() == lowered:
            model.checks.remove(check)
            return
    for unique in model.uniques:
        if (unique[0] or "").lower() == lowered:
            model.uniques.remove(unique)
            return
    for fk in model.foreign_keys:
        if (fk.name or "").lower() == lowered:
            model.foreign_keys.remove(fk)
            return
    raise MigrationInputError(
        f"no constraint named {name!r} on {model.name} in the current schema (unnamed constraints cannot be dropped "
        "by name: give the target CREATE TABLE instead)"
    )
