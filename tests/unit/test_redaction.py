"""Passwords and tokens never show: reprs, logs, errors, tool output."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dbspecialist.config import load_connections, parse_connection
from dbspecialist.errors import ConfigError
from dbspecialist.redaction import RedactingFilter, redact, redact_url, register_secret

SECRET = "S3cr3t-Pa55word"


def test_url_password_and_secret_params_masked() -> None:
    url = f"postgresql://app:{SECRET}@db.internal:5432/shop?sslmode=require&password={SECRET}x&token=abc123"
    shown = redact_url(url)
    assert SECRET not in shown and "abc123" not in shown
    assert shown.startswith("postgresql://app:***@db.internal:5432/shop?")
    assert "sslmode=require" in shown


def test_sqlite_url_keeps_its_slashes() -> None:
    assert redact_url("sqlite:////var/data/x.db") == "sqlite:////var/data/x.db"


def test_repr_and_str_of_connection_hide_password() -> None:
    conn = parse_connection("pg", f"postgresql://app:{SECRET}@h/db", source="t")
    for text in (repr(conn), str(conn), conn.redacted_url, str(conn.model_dump(exclude={"url"}))):
        assert SECRET not in text
    assert "***" in conn.redacted_url


def test_registered_secret_masked_in_free_text_but_not_inside_words() -> None:
    register_secret("postgres")  # a weak password that is also a word
    assert redact("connecting to postgresql as postgres") == "connecting to postgresql as ***"
    parse_connection("pg", f"postgresql://app:{SECRET}@h/db", source="t")
    assert redact(f'password authentication failed: "{SECRET}"') == 'password authentication failed: "***"'
    assert redact(f"dsn host=h password={SECRET}") == "dsn host=h password=***"
    assert redact("mysql://root:pw@h/db failed") == "mysql://root:***@h/db failed"


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    parse_connection("pg", f"postgresql://app:{SECRET}@h/db", source="t")
    logger = logging.getLogger("test.redaction")
    handler = logging.Handler()
    records: list[logging.LogRecord] = []
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("could not connect with %s", f"postgresql://app:{SECRET}@h/db")
        try:
            raise RuntimeError(f"driver said {SECRET}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2
    for record in records:
        assert SECRET not in record.getMessage()
    assert "Traceback" in records[1].getMessage()  # the traceback is kept, redacted


def test_config_errors_do_not_leak(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_connection("pg", f"oracle://app:{SECRET}@h/db", source="t")
    assert SECRET not in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_connection("pg", f"postgresql://app:{SECRET}@h:99999/db", source="t")
    assert SECRET not in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_connections(cli_dbs=[f"postgresql://app:{SECRET}@h/db"], environ={})
    assert SECRET not in str(info.value)
