"""DDL review speed on generated pg_dump-style schemas: pglast parse, sqlglot parse, rule time.

`python -m bench.schema_parse [--quick]` prints one JSON row per schema size. Targets (issue 4): the
whole review (parse + rules) of 1,000 tables (~20,000 lines) in at most 3 s, of 10,000 tables in at
most 30 s. The sqlglot figure parses the same text with `sqlglot.parse(read="postgres")` for
comparison only; it is not part of the review.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

TARGET_S: dict[int, float] = {1_000: 3.0, 10_000: 30.0}
SQLGLOT_MAX_TABLES_QUICK = 1_000  # sqlglot is far slower; in --quick runs skip it on the big schema

_HEADER = """--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

CREATE TYPE public.item_state AS ENUM (
    'new',
    'active',
    'archived'
);

SET default_tablespace = '';
SET default_table_access_method = heap;
"""


def generate_pg_dump(tables: int) -> str:
    """A schema shaped like `pg_dump --schema-only`: about 24 lines per table, in pg_dump's order."""
    creates: list[str] = [_HEADER]
    constraints: list[str] = []
    indexes: list[str] = []
    foreign_keys: list[str] = []
    for i in range(tables):
        t = f"t_{i:05d}"
        creates.append(
            f"""
-- Name: {t}; Type: TABLE; Schema: public; Owner: app
CREATE TABLE public.{t} (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    parent_id integer,
    name character varying(255) NOT NULL,
    state public.item_state DEFAULT 'new'::public.item_state NOT NULL,
    amount numeric(12,2) DEFAULT 0.00 NOT NULL,
    payload jsonb DEFAULT '{{}}'::jsonb,
    created_at timestamp(6) without time zone NOT NULL,
    deleted_at timestamp with time zone
);

ALTER TABLE public.{t} OWNER TO app;
COMMENT ON TABLE public.{t} IS 'generated table {i}';
CREATE SEQUENCE public.{t}_id_seq
    START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.{t}_id_seq OWNED BY public.{t}.id;"""
        )
        constraints.append(
            f"ALTER TABLE ONLY public.{t} ALTER COLUMN id SET DEFAULT nextval('public.{t}_id_seq'::regclass);\n"
            f"ALTER TABLE ONLY public.{t}\n    ADD CONSTRAINT {t}_pkey PRIMARY KEY (id);\n"
        )
        indexes.append(
            f"CREATE INDEX index_{t}_on_account_id ON public.{t} USING btree (account_id);\n"
            f"CREATE UNIQUE INDEX index_{t}_on_lower_name ON public.{t} USING btree (lower((name)::text))"
            " WHERE (deleted_at IS NULL);\n"
        )
        if i:
            foreign_keys.append(
                f"ALTER TABLE ONLY public.{t}\n    ADD CONSTRAINT fk_{t}_parent FOREIGN KEY (parent_id)"
                f" REFERENCES public.t_{i - 1:05d}(id) ON DELETE CASCADE;\n"
            )
    return "\n".join([*creates, *constraints, *indexes, *foreign_keys])


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def _rules_time(catalog: Any) -> tuple[float | None, int | None]:
    try:
        from dbspecialist.knowledge.schema.context import SchemaContext
        from dbspecialist.knowledge.schema.registry import review
    except ImportError:
        return None, None
    ctx = SchemaContext(catalog=catalog, engine="postgresql", live=False)
    report, seconds = _timed(review, ctx)
    return seconds, len(report.findings)


def _sqlglot_time(ddl: str) -> float | None:
    try:
        import sqlglot
        from sqlglot.errors import ErrorLevel
    except ImportError:
        return None
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # it logs one line per statement it only half understands
    try:
        _, seconds = _timed(sqlglot.parse, ddl, read="postgres", error_level=ErrorLevel.IGNORE)
    except Exception:
        return None
    finally:
        logger.setLevel(level)
    return seconds


def measure(tables: int, *, with_sqlglot: bool = True) -> dict[str, Any]:
    from dbspecialist.knowledge.ddl.postgres import parse_postgres

    ddl = generate_pg_dump(tables)
    parsed, parse_s = _timed(parse_postgres, ddl)
    rules_s, findings = _rules_time(parsed.catalog)
    total = parse_s + (rules_s or 0.0)
    target = TARGET_S.get(tables)
    sqlglot_s = _sqlglot_time(ddl) if with_sqlglot else None
    return {
        "tables": tables,
        "lines": ddl.count("\n") + 1,
        "statements": parsed.statements,
        "parse_warnings": len(parsed.warnings),
        "pglast_parse_s": round(parse_s, 3),
        "rules_s": None if rules_s is None else round(rules_s, 3),
        "findings": findings,
        "review_s": round(total, 3),
        "sqlglot_parse_s": None if sqlglot_s is None else round(sqlglot_s, 3),
        "target_s": target,
        "passed": None if target is None else total <= target,
    }


def main(quick: bool = False) -> list[dict[str, Any]]:
    rows = [measure(1_000)]
    rows.append(measure(10_000, with_sqlglot=not quick or SQLGLOT_MAX_TABLES_QUICK >= 10_000))
    return rows


if __name__ == "__main__":
    cli = argparse.ArgumentParser(prog="python -m bench.schema_parse", description=__doc__)
    cli.add_argument("--quick", action="store_true", help="skip the sqlglot comparison on the 10,000-table schema")
    for row in main(quick=cli.parse_args().quick):
        print(json.dumps(row))
