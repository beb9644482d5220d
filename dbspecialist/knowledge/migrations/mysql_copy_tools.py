"""Copying a MySQL/MariaDB table online: gh-ost or pt-online-schema-change (chosen by foreign keys, triggers and
flavor), their prerequisites check, and the direct blocking ALTER when no tool can copy the table.
"""

from __future__ import annotations

import shlex
from typing import Literal

from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import LockClaim, MigrationStep, Phase
from dbspecialist.knowledge.migrations.mysql_classify import catalog_column
from dbspecialist.knowledge.migrations.mysql_online_ddl import OnlineDDL, online_ddl
from dbspecialist.knowledge.migrations.mysql_steps import ASSUME_THRESHOLD, REFUSED, PlanBuilder
from dbspecialist.knowledge.migrations.mysql_tokens import quote, short_name

Tool = Literal["gh-ost", "pt-online-schema-change", "none"]


def copy_fallback(planner: PlanBuilder, name: str, table_sql: str, specs: list[str], phase: Phase) -> MigrationStep:
    """The step to run only when the server refused the previous one (its current definition was unknown)."""
    entry = online_ddl("change_type", planner.flavor, planner.version)
    title = f"Only if the server refused it: {name}"
    if planner.is_big(name) is False:
        direct = f"ALTER TABLE {table_sql} {', '.join(specs)}, {entry.clause()};"
        step = planner.ddl_step(phase=phase, title=f"{title} — direct copy", table=name, sql=[direct], entry=entry)
    else:
        step = tool_or_copy_step(planner, name, table_sql, specs, entry, phase, title)
    return step.model_copy(
        update={
            "only_if_previous_refused": True,
            "notes": [
                f"run this only if the previous step failed with error {REFUSED[0]}/{REFUSED[1]} (ALGORITHM "
                "not supported): then the change needs a table copy",
                *step.notes,
            ],
        }
    )


def copy_with_tool(
    planner: PlanBuilder,
    name: str,
    table_sql: str,
    specs: list[str],
    entry: OnlineDDL,
    phase: Phase,
    title: str,
    big: bool | None,
) -> None:
    """Append the copy-tool step for a write-blocking operation; an unknown size is treated as big."""
    if big is None:
        planner.assume(
            f"the size of {name} is unknown: treated as big, so operations that block writes on it run "
            "through an online schema change tool (pass table_stats for a direct ALTER on small tables)"
        )
    planner.assume(ASSUME_THRESHOLD)
    planner.steps.append(tool_or_copy_step(planner, name, table_sql, specs, entry, phase, title))


def tool_or_copy_step(
    planner: PlanBuilder, name: str, table_sql: str, specs: list[str], entry: OnlineDDL, phase: Phase, title: str
) -> MigrationStep:
    """The gh-ost / pt-online-schema-change step, or the direct copy when neither can copy the table."""
    tool, command, reasons = tool_command(planner, name, specs)
    direct = f"ALTER TABLE {table_sql} {', '.join(specs)}, {entry.clause()};"
    stats = planner.stats(name)
    if tool == "none":
        step = planner.ddl_step(
            phase=phase,
            title=f"{title} — direct copy, blocks writes",
            table=name,
            sql=[direct],
            entry=entry,
            notes=reasons,
        )
        return step
    tool_prerequisites(planner, name, tool)
    duration = estimate("rewrite", stats)
    held = "a few seconds at most, at the cut-over (--cut-over-lock-timeout-seconds, default 3)"
    mode = (
        "gh-ost: no table lock while copying (it tails the binlog); LOCK TABLES + atomic RENAME at the cut-over"
        if tool == "gh-ost"
        else "pt-online-schema-change: brief metadata locks to create its triggers and for the atomic RENAME"
    )
    old_copy = f"_{short_name(name)}_del" if tool == "gh-ost" else f"_{short_name(name)}_old"
    return MigrationStep(
        phase=phase,
        kind="command",
        title=f"{title} — with {tool}",
        table=name,
        command=command,
        lock=LockClaim(mode=mode, tables=[name], blocks="nothing", held=held),
        table_effect="rewrite",
        transactional=False,
        estimate=duration.model_copy(
            update={"basis": duration.basis + "; the tool throttles on replica lag and load, so allow longer"}
        ),
        rollback=[
            f"RENAME TABLE {table_sql} TO {quote('_' + short_name(name) + '_failed')}, {old_copy} TO {table_sql};"
        ],
        reversible=True,
        notes=[
            *reasons,
            f"{tool} copies the table in chunks while the application keeps writing, then swaps the copy in",
            "dry run first: "
            + ("the same command without --execute" if tool == "gh-ost" else "replace --execute with --dry-run"),
            f"rollback swaps the original back (kept as {old_copy}); writes made after the cut-over are lost",
            f"on a small table the server can do it directly (blocks writes): {direct}",
        ],
    )


def tool_command(planner: PlanBuilder, name: str, specs: list[str]) -> tuple[Tool, str, list[str]]:
    """(tool, command, why) for copying `name` with the ALTER specifications applied."""
    alter = ", ".join(specs)
    table = planner.ctx.table(name)
    reasons: list[str] = []
    referenced_by = []
    if planner.ctx.catalog is not None:
        low = short_name(name).lower()
        referenced_by = [
            t.name for t in planner.ctx.catalog.tables if any(fk.ref_table.lower() == low for fk in t.foreign_keys)
        ]
    extra: list[str] = []
    if table is None:
        planner.assume(
            f"foreign keys and triggers of {name} are unknown: if it has any (either side of a foreign key) use "
            "pt-online-schema-change instead of gh-ost (see notes)"
        )
    else:
        has_key = table.primary_key is not None or any(
            index.unique and all(not (c := catalog_column(table, col)) or not c.nullable for col in index.columns)
            for index in table.indexes
        )
        if not has_key:
            reasons.append(
                f"{name} has no PRIMARY KEY or NOT NULL UNIQUE key: neither gh-ost nor pt-online-schema-change "
                "can copy it; add a primary key first (ADD PRIMARY KEY is INPLACE, LOCK=NONE) or run the direct "
                "ALTER in a maintenance window"
            )
            return "none", "", reasons
        if table.foreign_keys:
            reasons.append(f"{name} has foreign keys: gh-ost does not support foreign keys, so pt-online-schema-change")
        if referenced_by:
            reasons.append(
                f"{', '.join(sorted(referenced_by))} reference {name}: gh-ost refuses, pt-online-schema-change "
                "re-points the child foreign keys (--alter-foreign-keys-method=auto)"
            )
            extra.append("--alter-foreign-keys-method=auto")
        if table.triggers:
            reasons.append(
                f"{name} has triggers: gh-ost does not support them; pt-online-schema-change keeps them "
                "(--preserve-triggers, MySQL 5.7.2+ / MariaDB 10.2.3+)"
            )
            extra.append("--preserve-triggers")
    use_pt = bool(reasons)
    if not use_pt and planner.flavor == "mariadb":
        use_pt = True
        reasons.append(
            "MariaDB: pt-online-schema-change, because gh-ost was long untested on MariaDB (gh-ost issue #725; "
            "support arrived only in recent releases)"
        )
    database = planner.database(name)
    if use_pt:
        dsn = f"D={database},t={short_name(name)},h=<primary-host>,P=3306,u=<user>,p=<password>"
        parts = [
            "pt-online-schema-change",
            f"--alter {shlex.quote(alter)}",
            shlex.quote(dsn),
            "--chunk-size=1000",
            "--max-lag=1",
            "--check-interval=1",
            "--max-load Threads_running=25",
            "--critical-load Threads_running=100",
            *extra,
            "--no-drop-old-table",
            "--execute",
        ]
        return "pt-online-schema-change", " \\\n  ".join(parts), reasons
    reasons.append(
        "gh-ost: triggerless (it reads the binlog), throttles on replica lag, and the cut-over moment is yours"
    )
    planner.note(
        "if the table turns out to have foreign keys or triggers, use pt-online-schema-change: "
        + " ".join(
            [
                "pt-online-schema-change",
                f"--alter {shlex.quote(alter)}",
                shlex.quote(f"D={database},t={short_name(name)},h=<primary-host>,u=<user>,p=<password>"),
                "--chunk-size=1000 --max-lag=1 --alter-foreign-keys-method=auto --preserve-triggers --execute",
            ]
        )
    )
    parts = [
        "gh-ost",
        "--host=<primary-host>",
        "--port=3306",
        "--user=<user>",
        "--password=<password>",
        f"--database={shlex.quote(database)}",
        f"--table={shlex.quote(short_name(name))}",
        f"--alter={shlex.quote(alter)}",
        "--allow-on-master",
        "--chunk-size=1000",
        "--max-lag-millis=1500",
        "--max-load=Threads_running=25",
        "--critical-load=Threads_running=100",
        "--exact-rowcount",
        "--concurrent-rowcount",
        "--default-retries=120",
        "--cut-over=default",
        f"--postpone-cut-over-flag-file=/tmp/ghost.{short_name(name)}.postpone",
        "--verbose",
        "--execute",
    ]
    return "gh-ost", " \\\n  ".join(parts), reasons


def tool_prerequisites(planner: PlanBuilder, name: str, tool: Tool) -> None:
    """A check step for the chosen tool's server prerequisites (once per plan)."""
    if planner.checked_tool:
        return
    planner.checked_tool = True
    if tool == "gh-ost":
        query = "SELECT @@global.binlog_format, @@global.binlog_row_image, @@global.log_bin;"
        expect = (
            "gh-ost needs binlog_format=ROW and binlog_row_image=FULL on the server it reads (or --switch-to-rbr), "
            "and a NOT NULL PRIMARY/UNIQUE key shared by the old and new table"
        )
    else:
        query = "SELECT @@global.binlog_format, @@global.log_bin;"
        expect = "pt-online-schema-change needs a PRIMARY or UNIQUE key and the TRIGGER privilege"
    planner.check("prepare", f"Check the {tool} prerequisites", name, query, expect)
