"""The InnoDB online DDL table, the MySQL/MariaDB statement parser and the zero-downtime planner."""

from __future__ import annotations

import pytest

from dbspecialist.adapters.catalog import Catalog, Column, ForeignKey, Index, PrimaryKey, Table, Trigger
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.model import MigrationStep, TableStats
from dbspecialist.knowledge.migrations.mysql_online_ddl import (
    OPERATION_KINDS,
    TABLES,
    TableTraits,
    bytes_per_char,
    length_bytes,
    max_row_versions,
    online_ddl,
    weakest,
)
from dbspecialist.knowledge.migrations.mysql_plan import (
    BIG_TABLE_ROWS,
    PREAMBLE,
    parse_statement,
    plan_mysql,
    split_statements,
)
from dbspecialist.knowledge.migrations.versions import Version

MYSQL_57: Version = (5, 7, 44)
MYSQL_8012: Version = (8, 0, 12)
MYSQL_8029: Version = (8, 0, 29)
MYSQL_8036: Version = (8, 0, 36)
MARIADB_103: Version = (10, 3, 39)
MARIADB_1011: Version = (10, 11, 0)

SHOP = """
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT '', KEY ix_name (name))
  DEFAULT CHARSET=utf8mb4;
CREATE TABLE orders (
  id BIGINT NOT NULL PRIMARY KEY,
  customer_id INT,
  total DECIMAL(10,2),
  note VARCHAR(60) CHARACTER SET utf8mb4,
  CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE events (id BIGINT PRIMARY KEY, kind INT, body VARCHAR(60) CHARACTER SET utf8mb4) DEFAULT CHARSET=utf8mb4;
"""


def shop() -> Catalog:
    catalog = parse_ddl(SHOP, "mysql").catalog
    return catalog.model_copy(update={"database": "shop"})


def run(
    change: str,
    version: Version = MYSQL_8036,
    dialect: str = "mysql",
    *,
    rows: int | None = 1000,
    catalog: Catalog | None = None,
    use_catalog: bool = True,
) -> PlannerOutput:
    stats = {} if rows is None else {name: TableStats(rows=rows) for name in ("customers", "orders", "events", "t")}
    ctx = PlanContext(
        dialect=dialect,
        version=version,
        version_given=True,
        stats=stats,
        catalog=(catalog or shop()) if use_catalog else None,
    )
    return plan_mysql(change, ctx)


def sql_of(output: PlannerOutput) -> list[str]:
    """The statements of the plan's SQL steps (checks left out)."""
    return [q for step in output.steps if step.kind == "sql" for q in step.sql]


def only_ddl(output: PlannerOutput) -> MigrationStep:
    steps = [s for s in output.steps if s.kind == "sql"]
    assert len(steps) == 1, [s.title for s in output.steps]
    return steps[0]


# ----------------------------------------------------------------------------------------------- the table


def test_every_kind_has_an_entry_for_both_servers() -> None:
    for flavor in ("mysql", "mariadb"):
        assert set(TABLES[flavor]) == set(OPERATION_KINDS), flavor


@pytest.mark.parametrize(
    ("kind", "flavor", "version", "algorithm", "rebuilds"),
    [
        ("add_column_last", "mysql", MYSQL_57, "INPLACE", True),
        ("add_column_last", "mysql", (8, 0, 11), "INPLACE", True),
        ("add_column_last", "mysql", MYSQL_8012, "INSTANT", False),
        ("add_column_middle", "mysql", (8, 0, 28), "INPLACE", True),
        ("add_column_middle", "mysql", MYSQL_8029, "INSTANT", False),
        ("drop_column", "mysql", (8, 0, 28), "INPLACE", True),
        ("drop_column", "mysql", MYSQL_8029, "INSTANT", False),
        ("rename_column", "mysql", (8, 0, 27), "INPLACE", False),
        ("rename_column", "mysql", (8, 0, 28), "INSTANT", False),
        ("varchar_extend", "mysql", (5, 6, 50), "COPY", True),
        ("varchar_extend", "mysql", MYSQL_57, "INPLACE", False),
        ("varchar_extend_crossing", "mysql", MYSQL_8036, "COPY", True),
        ("int_widen", "mysql", MYSQL_8036, "COPY", True),
        ("enum_append", "mysql", MYSQL_57, "INPLACE", False),
        ("enum_append", "mysql", MYSQL_8036, "INSTANT", False),
        ("add_index", "mysql", MYSQL_8036, "INPLACE", False),
        ("drop_primary_key", "mysql", MYSQL_8036, "COPY", True),
        ("add_column_last", "mariadb", (10, 2, 44), "INPLACE", True),
        ("add_column_last", "mariadb", MARIADB_103, "INSTANT", False),
        ("add_column_middle", "mariadb", MARIADB_103, "INPLACE", True),
        ("add_column_middle", "mariadb", (10, 4, 0), "INSTANT", False),
        ("drop_column", "mariadb", MARIADB_103, "INPLACE", True),
        ("drop_column", "mariadb", MARIADB_1011, "INSTANT", False),
        ("reorder_column", "mariadb", MARIADB_1011, "INSTANT", False),
        ("varchar_extend", "mariadb", MARIADB_103, "NOCOPY", False),
        ("varchar_extend", "mariadb", MARIADB_1011, "INSTANT", False),
        ("add_index", "mariadb", MARIADB_1011, "NOCOPY", False),
        ("drop_index", "mariadb", MARIADB_1011, "NOCOPY", False),
        ("rename_index", "mariadb", MARIADB_1011, "INSTANT", False),
        ("drop_not_null", "mariadb", MARIADB_1011, "INPLACE", True),
        ("column_charset_utf8mb4", "mariadb", MARIADB_1011, "INSTANT", False),
        ("column_charset_utf8mb4", "mysql", MYSQL_8036, "COPY", True),
    ],
)
def test_algorithm_per_version(kind: str, flavor: str, version: Version, algorithm: str, rebuilds: bool) -> None:
    entry = online_ddl(kind, flavor, version)
    assert (entry.algorithm, entry.rebuilds) == (algorithm, rebuilds)


def test_locks_of_operations_that_cannot_take_concurrent_writes() -> None:
    assert online_ddl("add_fulltext_index", "mysql", MYSQL_8036).lock == "SHARED"
    assert online_ddl("add_spatial_index", "mariadb", MARIADB_1011).clause() == "ALGORITHM=NOCOPY, LOCK=SHARED"
    assert online_ddl("add_column_auto_increment", "mariadb", MARIADB_1011).clause() == "ALGORITHM=INPLACE, LOCK=SHARED"
    assert online_ddl("change_type", "mysql", MYSQL_8036).blocks == "writes"
    assert online_ddl("rename_table", "mariadb", MARIADB_1011).lock == "EXCLUSIVE"


def test_mariadb_112_copies_online() -> None:
    assert online_ddl("change_type", "mariadb", MARIADB_1011).lock == "SHARED"
    entry = online_ddl("change_type", "mariadb", (11, 4, 0))
    assert entry.clause() == "ALGORITHM=COPY, LOCK=NONE"
    assert entry.effect == "rewrite"


def test_traits_change_the_answer() -> None:
    fk_off = TableTraits(foreign_key_checks=False)
    assert online_ddl("add_foreign_key", "mysql", MYSQL_8036).clause() == "ALGORITHM=COPY, LOCK=SHARED"
    assert online_ddl("add_foreign_key", "mysql", MYSQL_8036, fk_off).clause() == "ALGORITHM=INPLACE, LOCK=NONE"
    assert online_ddl("add_foreign_key", "mariadb", MARIADB_1011, fk_off).clause() == "ALGORITHM=INSTANT, LOCK=NONE"
    fulltext = TableTraits(has_fulltext=True)
    assert online_ddl("add_column_last", "mariadb", MARIADB_1011, fulltext).clause() == "ALGORITHM=INPLACE, LOCK=SHARED"
    compressed = TableTraits(row_format="Compressed")
    assert online_ddl("drop_column", "mysql", MYSQL_8036, compressed).clause() == "ALGORITHM=INPLACE, LOCK=NONE"
    assert online_ddl("drop_column", "mariadb", MARIADB_1011, TableTraits(indexed=True)).algorithm == "NOCOPY"
    redundant = TableTraits(row_format="REDUNDANT")
    assert online_ddl("varchar_extend_crossing", "mariadb", MARIADB_1011, redundant).algorithm == "INSTANT"
    assert online_ddl("varchar_extend_crossing", "mysql", MYSQL_8036, redundant).algorithm == "COPY"
    indexed = TableTraits(indexed=True)
    assert online_ddl("column_collation", "mariadb", (10, 5, 20), indexed).algorithm == "COPY"
    assert online_ddl("column_collation", "mariadb", (10, 6, 0), indexed).algorithm == "NOCOPY"
    assert online_ddl("column_collation", "mariadb", (10, 5, 20)).algorithm == "INSTANT"


def test_rejected_is_the_next_more_efficient_algorithm() -> None:
    assert online_ddl("add_index", "mariadb", MARIADB_1011).rejected == "INSTANT"
    assert online_ddl("set_not_null", "mariadb", MARIADB_1011).rejected == "NOCOPY"
    assert online_ddl("set_not_null", "mysql", MYSQL_8036).rejected == "INSTANT"
    assert online_ddl("change_type", "mysql", MYSQL_8036).rejected == "INPLACE"
    assert online_ddl("add_column_last", "mysql", MYSQL_57).rejected is None  # 5.7 knows no INSTANT
    assert online_ddl("add_column_last", "mariadb", MARIADB_1011).rejected is None


def test_weakest_combines_algorithm_and_lock() -> None:
    combined = weakest(
        [online_ddl("add_column_last", "mysql", MYSQL_8036), online_ddl("add_fulltext_index", "mysql", MYSQL_8036)]
    )
    assert combined.clause() == "ALGORITHM=INPLACE, LOCK=SHARED"
    assert combined.rebuilds and not combined.metadata_only


def test_length_prefix_and_row_versions() -> None:
    assert length_bytes(63, bytes_per_char("utf8mb4")) == 1
    assert length_bytes(64, bytes_per_char("utf8mb4")) == 2
    assert length_bytes(85, bytes_per_char("utf8mb3")) == 1
    assert length_bytes(255, bytes_per_char("latin1")) == 1
    assert max_row_versions(MYSQL_8036) == 64
    assert max_row_versions((9, 1, 0)) == 255


# ----------------------------------------------------------------------------------------------- the parser


def test_statements_keep_their_first_line_and_honour_delimiters() -> None:
    sql = (
        "-- a comment; with a semicolon\n"
        "ALTER TABLE t ADD COLUMN c VARCHAR(10) DEFAULT ';';\n\n"
        "DELIMITER //\n"
        "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.c = 'a'; END//\n"
        "DELIMITER ;\n"
        "/* block */ DROP INDEX ix ON t;"
    )
    statements = split_statements(sql)
    assert [(s.line, s.text.split()[0]) for s in statements] == [(2, "ALTER"), (5, "CREATE"), (7, "DROP")]
    assert statements[1].text.endswith("END")


def test_alter_specifications_are_classified() -> None:
    text = (
        "ALTER TABLE `shop`.`orders` ADD COLUMN note VARCHAR(100) CHARACTER SET utf8mb4 NOT NULL DEFAULT '' AFTER id, "
        "CHANGE a b INT, DROP FOREIGN KEY fk, ADD UNIQUE KEY uq (a, b(10) DESC), RENAME INDEX i TO j, "
        "ADD COLUMN g INT AS (a + 1) PERSISTENT, ALGORITHM=COPY, LOCK=SHARED"
    )
    parsed = parse_statement(split_statements(text)[0])
    assert (parsed.table, parsed.table_sql, parsed.algorithm, parsed.lock) == (
        "shop.orders",
        "`shop`.`orders`",
        "COPY",
        "SHARED",
    )
    actions = [(op.action, op.name, op.new_name) for op in parsed.changes]
    assert actions == [
        ("add_column", "note", None),
        ("change_column", "a", "b"),
        ("drop_foreign_key", "fk", None),
        ("add_index", "uq", None),
        ("rename_index", "i", "j"),
        ("add_column", "g", None),
    ]
    note = parsed.changes[0].column
    assert note is not None
    assert (note.type.name, note.type.length, note.charset, note.nullable, note.default, note.position) == (
        "VARCHAR",
        100,
        "utf8mb4",
        False,
        "''",
        "AFTER id",
    )
    assert note.body == "VARCHAR(100) CHARACTER SET utf8mb4 NOT NULL DEFAULT ''"
    assert parsed.changes[3].index_columns == ["a", "b"]
    assert parsed.changes[5].column is not None and parsed.changes[5].column.generated == "STORED"


def test_create_index_and_set_statements() -> None:
    statements = split_statements(
        "CREATE FULLTEXT INDEX ft ON docs (body) ALGORITHM=INPLACE LOCK=SHARED;"
        "SET SESSION foreign_key_checks = 0, @@session.lock_wait_timeout = 5"
    )
    index = parse_statement(statements[0])
    assert (index.kind, index.table, index.algorithm, index.lock) == ("create_index", "docs", "INPLACE", "SHARED")
    assert index.operations[0].text == "ADD FULLTEXT INDEX ft (body)"
    settings = parse_statement(statements[1]).settings
    assert settings == {"foreign_key_checks": "0", "lock_wait_timeout": "5"}


def test_unterminated_quote_is_a_parse_error() -> None:
    parsed = parse_statement(split_statements("ALTER TABLE t ADD COLUMN c INT DEFAULT (1")[0])
    assert parsed.error is not None and "parenthesis" in parsed.error


# ----------------------------------------------------------------------------------------------- the planner


def test_add_column_step_has_explicit_clause_lock_and_preamble() -> None:
    step = only_ddl(run("ALTER TABLE orders ADD COLUMN shipped_at DATETIME"))
    assert step.sql == ["ALTER TABLE orders ADD COLUMN shipped_at DATETIME, ALGORITHM=INSTANT, LOCK=NONE;"]
    assert step.lock is not None
    assert step.lock.mode == "brief exclusive MDL at start and end; ALGORITHM=INSTANT, LOCK=NONE"
    assert step.lock.blocks == "nothing"
    assert (step.phase, step.table_effect, step.transactional, step.blocks_writes) == (
        "expand",
        "metadata",
        False,
        False,
    )
    assert step.preamble == [PREAMBLE] == ["SET SESSION lock_wait_timeout = 5;"]
    assert step.rollback == ["ALTER TABLE orders DROP COLUMN shipped_at, ALGORITHM=INSTANT, LOCK=NONE;"]
    assert step.estimate is not None and step.estimate.seconds == 0.01
    assert step.retry is not None and "1205" in step.retry


@pytest.mark.parametrize(
    ("dialect", "version", "last", "middle"),
    [
        ("mysql", MYSQL_57, "INPLACE", "INPLACE"),
        ("mysql", MYSQL_8012, "INSTANT", "INPLACE"),
        ("mysql", MYSQL_8029, "INSTANT", "INSTANT"),
        ("mariadb", MARIADB_103, "INSTANT", "INPLACE"),
        ("mariadb", MARIADB_1011, "INSTANT", "INSTANT"),
    ],
)
def test_add_column_algorithm_per_version(dialect: str, version: Version, last: str, middle: str) -> None:
    at_end = only_ddl(run("ALTER TABLE orders ADD COLUMN c INT", version, dialect)).sql[0]
    after = only_ddl(run("ALTER TABLE orders ADD COLUMN c INT AFTER id", version, dialect)).sql[0]
    assert at_end.endswith(f"ALGORITHM={last}, LOCK=NONE;")
    assert after.endswith(f"ALGORITHM={middle}, LOCK=NONE;")


@pytest.mark.parametrize(
    ("dialect", "version", "algorithm", "effect"),
    [
        ("mysql", MYSQL_57, "INPLACE", "rewrite"),
        ("mysql", MYSQL_8012, "INPLACE", "rewrite"),
        ("mysql", MYSQL_8029, "INSTANT", "metadata"),
        ("mariadb", MARIADB_103, "INPLACE", "rewrite"),
        ("mariadb", MARIADB_1011, "INSTANT", "metadata"),
    ],
)
def test_drop_column_deploys_first_then_drops(dialect: str, version: Version, algorithm: str, effect: str) -> None:
    output = run("ALTER TABLE orders DROP COLUMN note", version, dialect)
    deploy = [s for s in output.steps if s.kind == "deploy"]
    drop = only_ddl(output)
    assert [s.phase for s in deploy] == ["switch"] and "orders.note" in deploy[0].title
    assert drop.phase == "contract" and drop.reversible is False
    assert drop.sql == [f"ALTER TABLE orders DROP COLUMN note, ALGORITHM={algorithm}, LOCK=NONE;"]
    assert drop.table_effect == effect


def test_mysql_8029_checks_row_versions_before_instant_column_changes() -> None:
    output = run("ALTER TABLE orders DROP COLUMN note", MYSQL_8029)
    checks = [s for s in output.steps if s.kind == "check"]
    assert len(checks) == 1 and checks[0].phase == "prepare"
    assert "TOTAL_ROW_VERSIONS" in checks[0].sql[0] and "'/orders'" in checks[0].sql[0]
    assert "at 64 the table must be rebuilt" in checks[0].notes[0]
    assert not [s for s in run("ALTER TABLE orders DROP COLUMN note", MYSQL_8012).steps if s.kind == "check"]


def test_small_table_copy_runs_directly_and_blocks_writes() -> None:
    step = only_ddl(run("ALTER TABLE orders MODIFY total DECIMAL(14,2)", rows=1000))
    assert step.sql == ["ALTER TABLE orders MODIFY total DECIMAL(14,2), ALGORITHM=COPY, LOCK=SHARED;"]
    assert step.lock is not None and step.lock.blocks == "writes" and step.blocks_writes
    assert step.lock.mode.startswith("shared MDL for the whole operation")
    assert step.table_effect == "rewrite"


def test_big_table_without_foreign_keys_uses_gh_ost() -> None:
    output = run("ALTER TABLE events MODIFY kind BIGINT", rows=BIG_TABLE_ROWS * 5)
    tool = [s for s in output.steps if s.kind == "command"]
    assert len(tool) == 1
    command = tool[0].command or ""
    for flag in (
        "gh-ost",
        "--database=shop",
        "--table=events",
        "--alter='MODIFY kind BIGINT'",
        "--allow-on-master",
        "--chunk-size=1000",
        "--max-lag-millis=1500",
        "--execute",
    ):
        assert flag in command
    assert tool[0].lock is not None and tool[0].lock.blocks == "nothing"
    assert tool[0].rollback == ["RENAME TABLE events TO _events_failed, _events_del TO events;"]
    prerequisites = [s for s in output.steps if s.kind == "check"]
    assert "binlog_format" in prerequisites[0].sql[0]
    assert any("1 GiB or 1,000,000 rows" in a for a in output.assumptions)


def test_foreign_keys_on_either_side_choose_pt_online_schema_change() -> None:
    child = next(s for s in run("ALTER TABLE orders MODIFY total BIGINT", rows=None).steps if s.kind == "command")
    assert (child.command or "").startswith("pt-online-schema-change")
    assert "'D=shop,t=orders,h=<primary-host>,P=3306,u=<user>,p=<password>'" in (child.command or "")
    assert "--max-lag=1" in (child.command or "") and "--alter-foreign-keys-method" not in (child.command or "")
    assert any("gh-ost does not support foreign keys" in n for n in child.notes)
    parent = next(s for s in run("ALTER TABLE customers MODIFY id BIGINT", rows=None).steps if s.kind == "command")
    assert "--alter-foreign-keys-method=auto" in (parent.command or "")
    assert any("orders reference customers" in n for n in parent.notes)


def test_triggers_choose_pt_online_schema_change_with_preserve_triggers() -> None:
    table = Table(
        name="t",
        columns=[Column(name="id", data_type="int", nullable=False), Column(name="a", data_type="int")],
        primary_key=PrimaryKey(columns=["id"]),
        triggers=[Trigger(name="trg", timing="AFTER", events=["INSERT"])],
    )
    catalog = Catalog(engine="mysql", database="db", tables=[table])
    command = [s for s in run("ALTER TABLE t MODIFY a BIGINT", rows=None, catalog=catalog).steps if s.kind == "command"]
    assert "--preserve-triggers" in (command[0].command or "")
    assert "pt-online-schema-change" in (command[0].command or "")


def test_no_unique_key_means_no_tool_and_a_direct_blocking_copy() -> None:
    table = Table(name="t", columns=[Column(name="a", data_type="int")])
    output = run("ALTER TABLE t MODIFY a BIGINT", rows=None, catalog=Catalog(engine="mysql", tables=[table]))
    step = only_ddl(output)
    assert step.sql == ["ALTER TABLE t MODIFY a BIGINT, ALGORITHM=COPY, LOCK=SHARED;"]
    assert any("neither gh-ost nor pt-online-schema-change" in n for n in step.notes)


def test_unknown_catalog_assumes_gh_ost_and_says_so() -> None:
    output = run("ALTER TABLE orders ADD COLUMN c INT AUTO_INCREMENT UNIQUE", rows=None, use_catalog=False)
    assert [s.kind for s in output.steps] == ["check", "command"]
    assert (output.steps[1].command or "").startswith("gh-ost")
    assert any("foreign keys and triggers of orders are unknown" in a for a in output.assumptions)
    assert any("the size of orders is unknown" in a for a in output.assumptions)
    assert any(n.startswith("if the table turns out to have foreign keys") for n in output.notes)


def test_mariadb_prefers_pt_osc_and_1124_copies_online_without_a_tool() -> None:
    catalog = parse_ddl("CREATE TABLE t (id INT PRIMARY KEY, a INT)", "mysql").catalog
    command = [
        s for s in run("ALTER TABLE t MODIFY a BIGINT", MARIADB_1011, "mariadb", rows=None, catalog=catalog).steps
    ]
    assert (command[-1].command or "").startswith("pt-online-schema-change")
    step = only_ddl(run("ALTER TABLE t MODIFY a BIGINT", (11, 4, 2), "mariadb", rows=None, catalog=catalog))
    assert step.sql == ["ALTER TABLE t MODIFY a BIGINT, ALGORITHM=COPY, LOCK=NONE;"]
    assert step.blocks_writes is False


def test_varchar_growth_within_and_across_the_length_prefix() -> None:
    within = only_ddl(run("ALTER TABLE orders MODIFY note VARCHAR(63) CHARACTER SET utf8mb4")).sql[0]
    assert within.endswith("ALGORITHM=INPLACE, LOCK=NONE;")
    across = only_ddl(run("ALTER TABLE orders MODIFY note VARCHAR(64) CHARACTER SET utf8mb4")).sql[0]
    assert across.endswith("ALGORITHM=COPY, LOCK=SHARED;")
    maria = only_ddl(run("ALTER TABLE orders MODIFY note VARCHAR(63) CHARACTER SET utf8mb4", MARIADB_1011, "mariadb"))
    assert maria.sql[0].endswith("ALGORITHM=INSTANT, LOCK=NONE;")


def test_unknown_current_definition_is_planned_as_the_copy_the_server_accepts() -> None:
    # QA: offline, MODIFY with an unknown old definition was labelled INSTANT/INPLACE, which MariaDB 10.11 refuses
    # for a type change (1846); the plan now says COPY and names the online attempt in a note, with no fallback step.
    output = run("ALTER TABLE t MODIFY name VARCHAR(200)", MARIADB_1011, "mariadb", rows=10, use_catalog=False)
    (step,) = [s for s in output.steps if s.kind == "sql"]
    assert step.sql == ["ALTER TABLE t MODIFY name VARCHAR(200), ALGORITHM=COPY, LOCK=SHARED;"]
    assert step.blocks_writes and step.table_effect == "rewrite"
    attempt = "try first ALTER TABLE t MODIFY name VARCHAR(200), ALGORITHM=INSTANT, LOCK=NONE;"
    assert any(attempt in n for n in step.notes)
    assert any("the current definition of name is unknown" in a for a in output.assumptions)


def test_unknown_current_definition_of_a_decimal_is_a_copy() -> None:
    output = run("ALTER TABLE t MODIFY total DECIMAL(12,2)", MARIADB_1011, "mariadb", rows=10, use_catalog=False)
    assert sql_of(output) == ["ALTER TABLE t MODIFY total DECIMAL(12,2), ALGORITHM=COPY, LOCK=SHARED;"]


def test_unknown_current_definition_with_not_null_checks_for_nulls() -> None:
    output = run("ALTER TABLE t MODIFY status VARCHAR(20) NOT NULL", MARIADB_1011, "mariadb", use_catalog=False)
    check, alter = output.steps
    assert check.sql == ["SELECT COUNT(*) FROM t WHERE status IS NULL;"]
    assert alter.sql == ["ALTER TABLE t MODIFY status VARCHAR(20) NOT NULL, ALGORITHM=COPY, LOCK=SHARED;"]
    # the online attempt it names is INPLACE (NOT NULL rebuilds), not INSTANT
    assert any("ALGORITHM=INPLACE, LOCK=NONE; — the server refuses it" in n for n in alter.notes)


def test_set_not_null_checks_for_nulls_in_the_validate_phase() -> None:
    output = run("ALTER TABLE orders MODIFY total DECIMAL(10,2) NOT NULL")
    check, alter = output.steps
    assert (check.kind, check.phase, alter.phase) == ("check", "validate", "validate")
    assert check.sql == ["SELECT COUNT(*) FROM orders WHERE total IS NULL;"]
    assert alter.sql == ["ALTER TABLE orders MODIFY total DECIMAL(10,2) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;"]
    assert alter.rollback == [
        "ALTER TABLE orders MODIFY COLUMN total decimal(10,2) NULL, ALGORITHM=INPLACE, LOCK=NONE;"
    ]


def test_operations_with_the_same_algorithm_share_one_statement() -> None:
    output = run("ALTER TABLE orders ADD COLUMN a INT, ADD COLUMN b INT, ADD INDEX ix_total (total)")
    assert sql_of(output) == [
        "ALTER TABLE orders ADD COLUMN a INT, ADD COLUMN b INT, ALGORITHM=INSTANT, LOCK=NONE;",
        "ALTER TABLE orders ADD INDEX ix_total (total), ALGORITHM=INPLACE, LOCK=NONE;",
    ]


def test_user_algorithm_is_replaced_and_noted() -> None:
    output = run("ALTER TABLE orders ADD COLUMN a INT, ALGORITHM=COPY, LOCK=EXCLUSIVE")
    assert sql_of(output) == ["ALTER TABLE orders ADD COLUMN a INT, ALGORITHM=INSTANT, LOCK=NONE;"]
    assert any("are replaced by the best ones" in n for n in output.notes)


def test_rename_column_goes_through_expand_contract_with_explicit_deploy() -> None:
    output = run("ALTER TABLE customers RENAME COLUMN name TO full_name")
    phases = [(s.phase, s.kind) for s in output.steps]
    assert phases == [
        ("expand", "sql"),
        ("expand", "sql"),
        ("backfill", "script"),
        ("validate", "check"),
        ("validate", "sql"),
        ("switch", "deploy"),
        ("contract", "sql"),
        ("contract", "deploy"),
        # name is indexed: dropping it drops its index, which is not instant (no row-version check)
        ("contract", "sql"),
        ("contract", "sql"),
    ]
    add, triggers, backfill, check, index, deploy = output.steps[:6]
    assert add.sql == [
        "ALTER TABLE customers ADD COLUMN full_name varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci "
        "NULL, ALGORITHM=INSTANT, LOCK=NONE;"
    ]
    assert triggers.sql[0].startswith("CREATE TRIGGER customers_name_full_name_ins BEFORE INSERT ON customers")
    assert "UPDATE customers SET full_name = name WHERE id > @last AND id <= @upper" in backfill.sql[3]
    assert check.sql == ["SELECT COUNT(*) FROM customers WHERE NOT (full_name <=> name);"]
    assert index.sql == ["ALTER TABLE customers ADD INDEX ix_name_full_name (full_name), ALGORITHM=INPLACE, LOCK=NONE;"]
    assert deploy.title == "Deploy application code that reads and writes customers.full_name instead of name"
    final = output.steps[-1]
    assert "NOT NULL DEFAULT ''" in final.sql[0] and final.sql[0].endswith("ALGORITHM=INPLACE, LOCK=NONE;")
    instant = [n for n in output.notes if n.startswith("instant alternative")]
    assert instant and "RENAME COLUMN name TO full_name, ALGORITHM=INSTANT, LOCK=NONE" in instant[0]
    assert "fails from that moment" in instant[0]
    assert (
        output.backfill_script is not None and "'statement': 'UPDATE customers SET full_name" in output.backfill_script
    )


def test_rename_table_keeps_a_view_until_the_deploy() -> None:
    output = run("RENAME TABLE orders TO purchases")
    assert [(s.phase, s.kind) for s in output.steps] == [("expand", "sql"), ("switch", "deploy"), ("contract", "sql")]
    assert output.steps[0].sql == [
        "RENAME TABLE orders TO purchases;",
        "CREATE VIEW orders AS SELECT * FROM purchases;",
    ]
    assert output.steps[2].sql == ["DROP VIEW orders;"]
    assert output.steps[0].lock is not None and output.steps[0].lock.blocks == "reads and writes"


def test_expression_default_is_added_bare_then_backfilled() -> None:
    output = run("ALTER TABLE orders ADD COLUMN token CHAR(36) NOT NULL DEFAULT (UUID())")
    assert sql_of(output)[:2] == [
        "ALTER TABLE orders ADD COLUMN token CHAR(36) NULL, ALGORITHM=INSTANT, LOCK=NONE;",
        "ALTER TABLE orders ALTER COLUMN token SET DEFAULT (UUID()), ALGORITHM=INSTANT, LOCK=NONE;",
    ]
    assert [s.phase for s in output.steps] == ["expand", "expand", "backfill", "validate", "validate"]
    script = output.backfill_script or ""
    compile(script, "backfill_mysql.py", "exec")
    assert "LAG_SQL = 'SHOW REPLICA STATUS'" in script and "BATCH_ROWS = 5000" in script
    old = run("ALTER TABLE orders ADD COLUMN token CHAR(36) DEFAULT (UUID())", MYSQL_57)
    assert "LAG_SQL = 'SHOW SLAVE STATUS'" in (old.backfill_script or "")


def test_mariadb_constant_expression_default_stays_instant() -> None:
    step = only_ddl(run("ALTER TABLE orders ADD COLUMN n INT DEFAULT (1 + 1)", MARIADB_1011, "mariadb"))
    assert step.sql == ["ALTER TABLE orders ADD COLUMN n INT DEFAULT (1 + 1), ALGORITHM=INSTANT, LOCK=NONE;"]


def test_foreign_key_is_added_with_checks_off_then_validated() -> None:
    output = run("ALTER TABLE events ADD CONSTRAINT fk_kind FOREIGN KEY (kind) REFERENCES customers (id)")
    index, fk, check = output.steps
    assert index.sql == ["ALTER TABLE events ADD INDEX events_kind_idx (kind), ALGORITHM=INPLACE, LOCK=NONE;"]
    assert fk.preamble == [PREAMBLE, "SET SESSION foreign_key_checks = 0;"]
    assert fk.sql[0].endswith("REFERENCES customers (id), ALGORITHM=INPLACE, LOCK=NONE;")
    assert fk.sql[1] == "SET SESSION foreign_key_checks = 1;"
    assert fk.lock is not None and fk.lock.tables == ["events", "customers"]
    assert fk.rollback == ["ALTER TABLE events DROP FOREIGN KEY fk_kind;"]
    assert check.phase == "validate" and "LEFT JOIN customers AS p ON p.id = c.kind" in check.sql[0]


def test_drop_index_is_made_invisible_first() -> None:
    output = run("DROP INDEX ix_name ON customers")
    hide, drop = output.steps
    assert hide.sql == ["ALTER TABLE customers ALTER INDEX ix_name INVISIBLE, ALGORITHM=INPLACE, LOCK=NONE;"]
    assert hide.rollback == ["ALTER TABLE customers ALTER INDEX ix_name VISIBLE, ALGORITHM=INPLACE, LOCK=NONE;"]
    assert drop.sql == ["ALTER TABLE customers DROP INDEX ix_name, ALGORITHM=INPLACE, LOCK=NONE;"]
    assert drop.rollback == ["ALTER TABLE customers ADD INDEX ix_name (name), ALGORITHM=INPLACE, LOCK=NONE;"]
    maria = run("DROP INDEX ix_name ON customers", MARIADB_1011, "mariadb")
    assert maria.steps[0].sql[0] == "ALTER TABLE customers ALTER INDEX ix_name IGNORED, ALGORITHM=INSTANT, LOCK=NONE;"


def test_optimize_becomes_an_explicit_online_rebuild() -> None:
    output = run("OPTIMIZE TABLE orders")
    assert sql_of(output) == ["ALTER TABLE orders FORCE, ALGORITHM=INPLACE, LOCK=NONE;"]
    assert output.steps[0].table_effect == "rewrite"


def test_update_becomes_a_keyset_backfill() -> None:
    output = run("UPDATE orders SET total = 0 WHERE total IS NULL")
    (step,) = output.steps
    assert step.kind == "script" and step.phase == "backfill" and step.table_effect == "rows"
    assert step.sql[3] == "UPDATE orders SET total = 0 WHERE id > @last AND id <= @upper AND (total IS NULL);"
    assert step.estimate is not None and step.estimate.seconds == pytest.approx(0.2)  # one batch of 1,000 rows


def test_drop_table_is_irreversible_and_preceded_by_a_deploy() -> None:
    output = run("DROP TABLE events")
    assert [(s.phase, s.kind) for s in output.steps] == [("switch", "deploy"), ("contract", "sql")]
    assert output.steps[1].reversible is False
    assert "RENAME TABLE events TO events_retired" in output.steps[1].notes[0]


def test_every_ddl_step_is_non_transactional_and_the_assumption_is_stated() -> None:
    output = run(
        "ALTER TABLE orders ADD COLUMN a INT; ALTER TABLE orders DROP COLUMN note; CREATE INDEX i ON orders (a)"
    )
    assert all(s.transactional is False for s in output.steps if s.kind == "sql")
    assert "MySQL/MariaDB DDL is never transactional: every DDL statement commits implicitly" in output.assumptions
    assert any(a.startswith("every DDL step sets lock_wait_timeout = 5 s") for a in output.assumptions)


def test_foreign_key_index_detection_uses_existing_indexes() -> None:
    table = Table(
        name="t",
        columns=[Column(name="id", data_type="int", nullable=False), Column(name="pid", data_type="int")],
        primary_key=PrimaryKey(columns=["id"]),
        indexes=[Index(name="ix_pid", columns=["pid"])],
        foreign_keys=[ForeignKey(columns=["pid"], ref_table="p", ref_columns=["id"])],
    )
    output = run(
        "ALTER TABLE t ADD FOREIGN KEY (pid) REFERENCES p (id)", catalog=Catalog(engine="mysql", tables=[table])
    )
    assert [s.kind for s in output.steps] == ["sql", "check"]
    assert output.steps[0].rollback[0].startswith("-- drop the new foreign key")


def test_modify_that_drops_not_null_and_default_is_noted() -> None:
    output = run("ALTER TABLE customers MODIFY name VARCHAR(50)")
    assert "MODIFY customers.name does not repeat NOT NULL, DEFAULT '': the column loses it" in output.notes[0]


def test_primary_key_columns_stay_not_null_after_modify() -> None:
    step = only_ddl(run("ALTER TABLE events MODIFY id BIGINT UNSIGNED", rows=10))
    assert step.sql == ["ALTER TABLE events MODIFY id BIGINT UNSIGNED, ALGORITHM=COPY, LOCK=SHARED;"]
    assert step.rollback == ["ALTER TABLE events MODIFY COLUMN id bigint NOT NULL, ALGORITHM=COPY, LOCK=SHARED;"]
    assert not run("ALTER TABLE events MODIFY id BIGINT UNSIGNED", rows=10).notes
