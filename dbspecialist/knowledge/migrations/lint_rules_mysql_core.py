"""What every MySQL/MariaDB lint rule shares: the lint state (server, schema, session settings) and the helpers that
build a finding, classify a statement's operations and render the planner's statements as a fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

from dbspecialist.adapters.catalog import Catalog, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.model import PHASE_ORDER
from dbspecialist.knowledge.migrations.mysql_classify import Classified, classify
from dbspecialist.knowledge.migrations.mysql_online_ddl import OnlineDDL
from dbspecialist.knowledge.migrations.mysql_plan import plan_mysql
from dbspecialist.knowledge.migrations.mysql_statements import Operation, ParsedStatement
from dbspecialist.knowledge.migrations.mysql_steps import PREAMBLE
from dbspecialist.knowledge.migrations.versions import Version

LOCK_WAIT_LIMIT_S: Final = 60  # a larger lock_wait_timeout lets a waiting ALTER stall the table for minutes
SubjectKind = Literal["table", "column", "index", "constraint"]


@dataclass
class LintState:
    """What the rules know at a statement: the server, the schema and the session settings seen so far."""

    version: Version
    flavor: str
    catalog: Catalog | None = None  # the schema before the migration, when the caller knows it (live or DDL)
    tables: dict[str, Table] = field(default_factory=dict)  # created earlier in the input, by lower-case name
    foreign_key_checks: bool = True
    lock_wait_timeout: int | None = None
    in_transaction: bool = False
    warned_lock_wait: bool = False

    def table(self, name: str | None) -> Table | None:
        """The table as created earlier in the input, else as the current catalog has it; None when unknown."""
        if name is None:
            return None
        key = name.lower()
        short = key.rsplit(".", 1)[-1]
        created = self.tables.get(key) or self.tables.get(short)
        if created is not None or self.catalog is None:
            return created
        for candidate in self.catalog.tables:
            qualified = f"{candidate.schema_name}.{candidate.name}".lower() if candidate.schema_name else None
            if key == qualified or short == candidate.name.lower():
                return candidate
        return None

    def schema(self) -> Catalog:
        """The schema the planner sees: the current catalog with the tables created in the input replacing theirs."""
        created = list(self.tables.values())
        if self.catalog is None:
            return Catalog(engine="mysql", source="ddl", tables=created)
        kept = [table for table in self.catalog.tables if table.name.lower() not in self.tables]
        return self.catalog.model_copy(update={"tables": kept + created})

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


Check = Callable[[ParsedStatement, LintState], Iterator[Finding]]


def spec(rule_id: str, name: str, severity: Severity, summary: str, fix: str = "always") -> RuleSpec:
    """A MySQL/MariaDB migration rule's spec."""
    return RuleSpec(
        id=rule_id,
        name=name,
        capability="migrations",
        engines=("mysql",),
        severity=severity,
        fix=fix,  # type: ignore[arg-type]
        summary=summary,
    )


def finding(
    spec: RuleSpec,
    parsed: ParsedStatement,
    state: LintState,
    *,
    title: str,
    subject: str,
    subject_kind: SubjectKind,
    rationale: str,
    help: str,
    evidence: dict[str, int | float | str | bool | None] | None = None,
    fix: Fix | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding for this statement: its line, the server in the evidence, the table it is about."""
    return Finding(
        rule_id=spec.id,
        name=spec.name,
        severity=severity or spec.severity,
        title=title,
        subject=subject,
        table=(parsed.table or "").rsplit(".", 1)[-1] or None,
        subject_kind=subject_kind,
        evidence={"statement_line": parsed.line, "server": f"{state.flavor} {state.version_text}", **(evidence or {})},
        rationale=rationale,
        help=help,
        fix=fix,
        line=parsed.line,
    )


def server(state: LintState) -> tuple[str, Version]:
    """(flavor, version), as classify() takes them."""
    return state.flavor, state.version


def classified_ops(parsed: ParsedStatement, state: LintState) -> list[Classified]:
    """Every operation of the statement, classified against the table as the state knows it."""
    table = state.table(parsed.table)
    return [
        classify(op, table, state.flavor, state.version, foreign_key_checks=state.foreign_key_checks)
        for op in parsed.changes
    ]


def alter_sql(parsed: ParsedStatement, specs: list[str], entry: OnlineDDL) -> str:
    """One ALTER TABLE with these specifications and the entry's ALGORITHM and LOCK."""
    return f"ALTER TABLE {parsed.table_sql} {', '.join(specs)}, {entry.clause()};"


def online_rewrite(parsed: ParsedStatement, state: LintState) -> list[str]:
    """The statement as one ALTER per operation, each with the best ALGORITHM and LOCK for this server."""
    return [alter_sql(parsed, [c.operation.text], c.entry) for c in classified_ops(parsed, state)]


def planned(text: str, state: LintState) -> list[str]:
    """The planner's statements (and commands) for one statement, in plan order, as a fix."""
    ctx = PlanContext(dialect=state.flavor, version=state.version, version_given=True, catalog=state.schema())
    output = plan_mysql(text, ctx)
    lines = [PREAMBLE]
    for step in sorted(output.steps, key=lambda s: PHASE_ORDER[s.phase]):
        if step.kind == "deploy":
            lines.append(f"-- deploy: {step.title}")
        elif step.kind == "command" and step.command:
            lines.append(step.command)
        else:
            lines.extend(q for q in [*step.preamble, *step.sql] if q != PREAMBLE)
    return lines


def planned_fix(title: str, text: str, state: LintState) -> Fix:
    """A display-only fix: the planner's statements for `text`."""
    return Fix(title=title, statements=planned(text, state), safety="display-only")


def column_subject(parsed: ParsedStatement, operation: Operation) -> str:
    """table.column the operation acts on (the table alone when it names no column)."""
    return f"{parsed.table}.{operation.name}" if operation.name else parsed.table or "?"


def ops(parsed: ParsedStatement, state: LintState, *kinds: str) -> Iterator[Classified]:
    """The statement's operations that amount to any of these online DDL kinds."""
    for classified in classified_ops(parsed, state):
        if any(kind in classified.kinds for kind in kinds):
            yield classified


def is_ddl(parsed: ParsedStatement) -> bool:
    """Whether the statement takes a metadata lock on an existing table."""
    return parsed.kind in ("alter_table", "create_index", "drop_index", "rename_table", "optimize", "truncate")
