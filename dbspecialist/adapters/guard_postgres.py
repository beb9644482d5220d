"""PostgreSQL read-only guard: parse with pglast (PostgreSQL's own parser) and accept one read statement.

The guard is the first layer. Underneath, the adapter sends the statement alone through the
extended protocol, inside a READ ONLY transaction that is always rolled back. Functions the guard
cannot classify from its lists are returned to the adapter, which asks `pg_proc.provolatile`
once and refuses volatile ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from dbspecialist.adapters.guard import MAX_STATEMENT_CHARS
from dbspecialist.errors import QueryRefusedError

# Functions with side effects, file/network access or session-state changes, by exact name.
PG_DENIED_FUNCTIONS: Final = frozenset(
    {
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "pg_current_logfile",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_rotate_logfile_old",
        "pg_log_backend_memory_contexts",
        "set_config",
        "nextval",
        "setval",
        "txid_current",
        "pg_current_xact_id",
        "pg_switch_wal",
        "pg_switch_xlog",
        "pg_create_restore_point",
        "pg_start_backup",
        "pg_stop_backup",
        "pg_promote",
        "pg_notify",
        "pg_export_snapshot",
        "pg_import_system_collations",
        "pg_replication_slot_advance",
        "pg_drop_replication_slot",
        "pg_copy_physical_replication_slot",
        "pg_copy_logical_replication_slot",
        "pg_truncate_visibility_map",
        "pg_prewarm",
        "pg_logdir_ls",
        "loread",
        "lowrite",
        "setseed",
    }
)
# ... and by prefix: families where every member writes, locks, signals or reads files.
PG_DENIED_PREFIXES: Final = (
    "lo_",  # large objects: lo_import / lo_export read and write server files
    "dblink",  # dblink, dblink_exec, dblink_connect: statements on other servers
    "pg_advisory",  # session and transaction advisory locks
    "pg_try_advisory",
    "pg_ls_",  # pg_ls_dir, pg_ls_logdir, pg_ls_waldir, ...
    "pg_read_",
    "pg_file_",  # adminpack: pg_file_write, pg_file_rename, pg_file_unlink
    "pg_stat_reset",
    "pg_stat_statements_reset",
    "pg_create_",  # replication slots, restore points
    "pg_logical_",  # pg_logical_emit_message, pg_logical_slot_get_changes
    "pg_replication_origin",
    "pg_backup_",
    "pg_wal_replay_",
    "binary_upgrade_",
    # These run a query given as a string, which the guard cannot see.
    "query_to_xml",
    "cursor_to_xml",
    "table_to_xml",
    "schema_to_xml",
    "database_to_xml",
)
# Functions known to be harmless (immutable, stable, or volatile without side effects, like random()).
# Anything neither here nor denied is checked against pg_proc by the adapter.
PG_ALLOWED_FUNCTIONS: Final = frozenset(
    {
        # aggregates and window functions
        "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg", "array_agg",
        "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "stddev", "stddev_pop", "stddev_samp",
        "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp", "percentile_cont",
        "percentile_disc", "mode", "bit_and", "bit_or", "row_number", "rank", "dense_rank", "percent_rank",
        "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value", "grouping",
        # strings
        "lower", "upper", "initcap", "length", "char_length", "character_length", "octet_length", "bit_length",
        "substr", "substring", "position", "strpos", "replace", "translate", "trim", "btrim", "ltrim", "rtrim",
        "lpad", "rpad", "left", "right", "repeat", "reverse", "split_part", "concat", "concat_ws", "format",
        "quote_ident", "quote_literal", "quote_nullable", "regexp_replace", "regexp_match", "regexp_matches",
        "regexp_split_to_array", "regexp_split_to_table", "regexp_like", "regexp_count", "starts_with", "ascii",
        "chr", "md5", "sha256", "sha512", "encode", "decode", "to_hex", "string_to_array", "array_to_string",
        "overlay", "normalize", "unistr", "convert_from", "convert_to",
        # numbers
        "abs", "ceil", "ceiling", "floor", "round", "trunc", "mod", "power", "pow", "sqrt", "cbrt", "exp", "ln",
        "log", "log10", "sign", "div", "greatest", "least", "width_bucket", "random", "random_normal", "pi",
        "degrees", "radians", "gcd", "lcm", "factorial", "scale",
        # dates and times
        "now", "current_timestamp", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
        "timeofday", "date_trunc", "date_part", "date_bin", "extract", "age", "make_date", "make_time",
        "make_timestamp", "make_timestamptz", "make_interval", "to_char", "to_date", "to_timestamp", "to_number",
        "justify_days", "justify_hours", "justify_interval", "isfinite", "timezone", "overlaps",
        # sleeping is harmless: the statement timeout stops it
        "pg_sleep", "pg_sleep_for", "pg_sleep_until",
        # json, arrays, ranges, misc
        "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array", "to_json", "to_jsonb",
        "row_to_json", "json_object", "jsonb_object", "json_array_length", "jsonb_array_length",
        "json_array_elements", "jsonb_array_elements", "json_array_elements_text", "jsonb_array_elements_text",
        "json_each", "jsonb_each", "json_each_text", "jsonb_each_text", "json_object_keys", "jsonb_object_keys",
        "json_extract_path", "jsonb_extract_path", "json_extract_path_text", "jsonb_extract_path_text",
        "json_typeof", "jsonb_typeof", "jsonb_set", "jsonb_insert", "jsonb_strip_nulls", "jsonb_pretty",
        "jsonb_path_query", "jsonb_path_exists", "jsonb_path_match", "json_populate_record",
        "jsonb_populate_record", "json_to_record", "jsonb_to_record", "jsonb_to_recordset",
        "array_length", "array_lower", "array_upper", "array_ndims", "array_dims", "array_append",
        "array_prepend", "array_cat", "array_position", "array_positions", "array_remove", "array_replace",
        "cardinality", "unnest", "generate_series", "generate_subscripts", "coalesce", "nullif", "num_nulls",
        "num_nonnulls", "gen_random_uuid", "lower_inc", "upper_inc", "isempty", "range_merge", "numrange",
        "int4range", "int8range", "tsrange", "tstzrange", "daterange",
        "to_tsvector", "to_tsquery", "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery", "ts_rank",
        "ts_rank_cd", "ts_headline", "host", "masklen", "network", "family", "inet_client_addr",
        # catalog and information functions (read only)
        "version", "current_database", "current_schema", "current_schemas", "current_user", "session_user",
        "current_setting", "pg_backend_pid", "pg_postmaster_start_time", "pg_conf_load_time", "inet_server_addr",
        "inet_server_port", "format_type", "pg_typeof", "pg_get_expr", "pg_get_indexdef",
        "pg_get_constraintdef", "pg_get_viewdef", "pg_get_triggerdef", "pg_get_functiondef",
        "pg_get_function_arguments", "pg_get_function_result", "pg_get_partkeydef", "pg_get_serial_sequence",
        "pg_get_userbyid", "pg_get_ruledef", "pg_get_statisticsobjdef", "pg_relation_size", "pg_table_size",
        "pg_indexes_size", "pg_total_relation_size", "pg_database_size", "pg_tablespace_size", "pg_column_size",
        "pg_size_pretty", "pg_size_bytes", "pg_relation_filenode", "pg_relation_filepath", "pg_table_is_visible",
        "pg_type_is_visible", "pg_function_is_visible", "pg_is_in_recovery", "pg_last_wal_receive_lsn",
        "pg_last_wal_replay_lsn", "pg_current_wal_lsn", "pg_wal_lsn_diff", "pg_last_xact_replay_timestamp",
        "pg_blocking_pids", "pg_stat_get_activity", "pg_partition_tree", "pg_partition_root",
        "pg_partition_ancestors", "obj_description", "col_description", "shobj_description",
        "has_table_privilege", "has_column_privilege", "has_schema_privilege", "has_database_privilege",
        "has_function_privilege", "has_sequence_privilege", "pg_has_role", "row_security_active",
        "txid_current_if_assigned", "pg_current_xact_id_if_assigned", "txid_current_snapshot",
        "pg_current_snapshot", "txid_status", "pg_xact_status", "mxid_age", "pg_xact_commit_timestamp",
        "pg_encoding_to_char", "pg_char_to_encoding", "pg_collation_for", "pg_jit_available",
        "pg_get_keywords", "pg_options_to_table", "pg_settings_get_flags", "pg_input_is_valid",
        "pg_stat_get_numscans", "pg_stat_statements", "pg_stat_statements_info", "pg_indexam_has_property",
        "pg_index_has_property", "pg_index_column_has_property", "pg_sequence_last_value",
        "pg_sequence_parameters", "pg_tablespace_location", "pg_describe_object", "pg_identify_object",
    }
)  # fmt: skip

# Statement node → what a person calls it, for refusals. Other nodes are named from their class.
_STATEMENT_NAMES: Final = {
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "CopyStmt": "COPY",
    "DoStmt": "DO",
    "CallStmt": "CALL",
    "LockStmt": "LOCK",
    "ListenStmt": "LISTEN",
    "UnlistenStmt": "UNLISTEN",
    "NotifyStmt": "NOTIFY",
    "PrepareStmt": "PREPARE",
    "ExecuteStmt": "EXECUTE",
    "DeallocateStmt": "DEALLOCATE",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "CreateTableAsStmt": "CREATE TABLE AS / CREATE MATERIALIZED VIEW",
    "CreateStmt": "CREATE TABLE",
    "DropStmt": "DROP",
    "TruncateStmt": "TRUNCATE",
    "DeclareCursorStmt": "DECLARE CURSOR",
    "ClosePortalStmt": "CLOSE",
    "FetchStmt": "FETCH",
    "CheckPointStmt": "CHECKPOINT",
    "DiscardStmt": "DISCARD",
    "LoadStmt": "LOAD",
    "GrantStmt": "GRANT / REVOKE",
    "GrantRoleStmt": "GRANT / REVOKE role",
    "VariableSetStmt": "SET / RESET",
    "ReindexStmt": "REINDEX",
    "ClusterStmt": "CLUSTER",
}
_TRANSACTION_WORDS: Final = {
    "TRANS_STMT_BEGIN": "BEGIN",
    "TRANS_STMT_START": "START TRANSACTION",
    "TRANS_STMT_COMMIT": "COMMIT",
    "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT",
    "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}
_WRITE_NODES: Final = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})
_FALSE_WORDS: Final = frozenset({"false", "off", "no", "0"})


@dataclass(frozen=True)
class PgAccepted:
    """The statement passed the guard.

    `kind` is select, values, show or explain; `unknown_functions` are the functions the guard's
    lists do not cover (as written, `schema.name` when qualified): the adapter checks their volatility.
    """

    kind: str
    sql: str
    unknown_functions: tuple[str, ...] = field(default=())


def _refuse(reason: str) -> QueryRefusedError:
    return QueryRefusedError(f"Refused by the read-only guard: {reason}")


def _parse(sql: str) -> tuple[Any, ...]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    if len(sql) > MAX_STATEMENT_CHARS:
        raise _refuse(f"the statement is {len(sql):,} characters; the limit is {MAX_STATEMENT_CHARS:,}")
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise _refuse(f"the statement could not be parsed as PostgreSQL SQL ({exc})") from None
    if not statements:
        raise _refuse("the query is empty (only whitespace or comments)")
    if len(statements) > 1:
        raise _refuse(f"{len(statements)} statements were given; send exactly one statement per call")
    return tuple(statements)


def _statement_name(node: Any) -> str:
    cls = type(node).__name__
    if cls == "TransactionStmt":
        return _TRANSACTION_WORDS.get(node.kind.name, "transaction control")
    if cls == "VacuumStmt":
        return "VACUUM" if node.is_vacuumcmd else "ANALYZE"
    if cls == "VariableSetStmt":
        return "RESET" if node.kind.name.startswith("VAR_RESET") else "SET"
    if cls in _STATEMENT_NAMES:
        return _STATEMENT_NAMES[cls]
    words = re.findall(r"[A-Z][a-z]*", cls.removesuffix("Stmt"))
    return " ".join(words).upper() or cls


def _walk(root: Any) -> Iterator[Any]:
    """Every AST node under `root`, depth first (pglast nodes keep their fields in `__slots__`)."""
    from pglast import ast

    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, name, None) for name in getattr(type(item), "__slots__", ()))
        elif isinstance(item, tuple | list):
            stack.extend(item)


def _explain_analyzes(node: Any) -> bool:
    for option in node.options or ():
        if option.defname.lower() != "analyze":
            continue
        arg = option.arg
        if arg is None:
            return True
        value = getattr(arg, "sval", getattr(arg, "ival", getattr(arg, "boolval", None)))
        return str(value).lower() not in _FALSE_WORDS
    return False


def function_name(node: Any) -> tuple[str | None, str]:
    """(schema or None, name) of a FuncCall, as written (already unquoted and case-folded by the parser)."""
    parts = [p.sval for p in node.funcname]
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def is_denied_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in PG_DENIED_FUNCTIONS or lowered.startswith(PG_DENIED_PREFIXES)


def _check_nodes(root: Any, *, plan_only: bool) -> tuple[str, ...]:
    unknown: dict[str, None] = {}
    for node in _walk(root):
        cls = type(node).__name__
        if cls in _WRITE_NODES and not plan_only:
            raise _refuse(
                f"it contains a data-modifying {_statement_name(node)} (a writable WITH clause); "
                "only reading statements are allowed"
            )
        if cls == "IntoClause":
            raise _refuse("SELECT ... INTO creates a table; use a plain SELECT")
        if cls == "LockingClause":
            raise _refuse("FOR UPDATE / FOR SHARE lock rows; remove the locking clause")
        if cls == "FuncCall":
            schema, name = function_name(node)
            if is_denied_function(name):
                raise _refuse(f"function {name}() has side effects or reads server files, so it is not allowed")
            if name.lower() in PG_ALLOWED_FUNCTIONS and schema in (None, "pg_catalog"):
                continue
            unknown[f"{schema}.{name}" if schema else name] = None
    return tuple(unknown)


def check_postgres(sql: str, *, plan_only: bool = False) -> PgAccepted:
    """Accept exactly one PostgreSQL read statement or raise QueryRefusedError saying why.

    `plan_only=True` is for statements that will only be planned (EXPLAIN without ANALYZE):
    INSERT/UPDATE/DELETE/MERGE are then accepted too, since planning never runs them.
    """
    [raw] = _parse(sql)
    stmt = raw.stmt
    cls = type(stmt).__name__
    root_write_ok = plan_only and cls in _WRITE_NODES
    if cls == "SelectStmt":
        kind = "values" if stmt.valuesLists else "select"
    elif cls == "VariableShowStmt":
        return PgAccepted(kind="show", sql=sql)
    elif cls == "ExplainStmt" and plan_only:
        raise _refuse("pass the statement itself, without EXPLAIN: the explain tool adds it")
    elif cls == "ExplainStmt":
        if _explain_analyzes(stmt):
            raise _refuse(
                "EXPLAIN ANALYZE runs the statement; use the explain tool with analyze=true, or plain EXPLAIN"
            )
        inner = type(stmt.query).__name__
        if inner != "SelectStmt" and inner not in _WRITE_NODES:
            raise _refuse(f"EXPLAIN of {_statement_name(stmt.query)} is not allowed; explain a SELECT or DML")
        return PgAccepted(kind="explain", sql=sql, unknown_functions=_check_nodes(stmt.query, plan_only=True))
    elif root_write_ok:
        kind = "plan"
    else:
        name = _statement_name(stmt)
        raise _refuse(
            f"{name} is not a read statement; only SELECT, WITH ... SELECT, VALUES, TABLE, SHOW and "
            "EXPLAIN (without ANALYZE) are allowed"
        )
    return PgAccepted(kind=kind, sql=sql, unknown_functions=_check_nodes(stmt, plan_only=plan_only))


def check_postgres_single(sql: str) -> str:
    """For connections that allow writes: exactly one statement, and no transaction control.

    Returns the statement's kind (its node name without `Stmt`, lower case).
    """
    [raw] = _parse(sql)
    cls = type(raw.stmt).__name__
    if cls == "TransactionStmt":
        raise _refuse(
            f"{_statement_name(raw.stmt)} is transaction control; each call already runs in its own "
            "transaction, committed when the statement succeeds"
        )
    return cls.removesuffix("Stmt").lower()
