"""SCH051 foreign-keys-pragma-off: `PRAGMA foreign_keys` is off while the SQLite schema declares foreign keys."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext

SPEC = RuleSpec(
    id="SCH051",
    name="foreign-keys-pragma-off",
    capability="schema",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="always",
    live_only=True,
    summary="SQLite is not enforcing the declared foreign keys (PRAGMA foreign_keys = 0).",
)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """SQLite ignores every REFERENCES clause unless each connection turns enforcement on.

    ## Why is this bad?
    For backward compatibility SQLite starts every connection with `foreign_keys` off, so the
    declared foreign keys document intent but stop nothing: orphans are inserted, parents deleted,
    and ON DELETE CASCADE never runs (SQLite docs, "SQLite Foreign Key Support", section 2). The
    setting is per connection, so every client and pool must set it.

    ## Example
    ```sql
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id));
    -- foreign_keys is 0 on this connection: any customer_id is accepted
    ```

    ## Use instead
    ```sql
    PRAGMA foreign_keys = ON;  -- on every new connection, before any other statement
    PRAGMA foreign_key_check;  -- then find the orphans that slipped in meanwhile
    ```

    ## Fix safety
    Safe to turn on, but existing orphan rows stay until cleaned up; `PRAGMA foreign_key_check`
    lists them. The pragma is a no-op inside a transaction.
    """
    if ctx.settings.get("foreign_keys", "").strip().lower() not in ("0", "off", "false", "no"):
        return
    tables = [t for t in ctx.tables() if t.foreign_keys]
    if not tables:
        return
    yield Finding(
        rule_id=SPEC.id,
        name=SPEC.name,
        severity=SPEC.severity,
        title="PRAGMA foreign_keys is off, so the declared foreign keys are not enforced",
        subject="PRAGMA foreign_keys",
        subject_kind="server",
        table=None,
        evidence={
            "foreign_keys": ctx.settings.get("foreign_keys"),
            "tables_with_foreign_keys": len(tables),
            "declared_foreign_keys": sum(len(t.foreign_keys) for t in tables),
        },
        rationale=(
            "SQLite enforces foreign keys only on connections that set PRAGMA foreign_keys = ON; it is off by "
            "default, as on the connection this review used (it cannot see your application's connections). "
            "Where it is off, orphans can be inserted and cascades do not run."
        ),
        help="Run PRAGMA foreign_keys = ON on every connection (in the driver's connect hook), then check for orphans.",
        fix=Fix(
            title="Enable foreign key enforcement on each connection",
            statements=["PRAGMA foreign_keys = ON;", "PRAGMA foreign_key_check;"],
            safety="safe",
            note="Set it in the connection factory of every application; it does not persist in the database file.",
        ),
    )
