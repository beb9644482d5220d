"""The MariaDB calculator's "server defaults" are the ones a real MariaDB reports, not MySQL's."""

from __future__ import annotations

import pymysql
import pytest

from dbspecialist.knowledge.tuning import mysql as calc
from tests.integration.servers import require_server

pytestmark = pytest.mark.integration


def test_mariadb_defaults_match_the_server() -> None:
    require_server("MariaDB", "127.0.0.1", 3306)
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", database="dbspecialist_test")
    try:
        with con.cursor() as cur:
            cur.execute("SELECT VERSION()")
            (version,) = cur.fetchone()
            if "mariadb" not in str(version).lower():
                pytest.skip(f"not a MariaDB server: {version}")
            cur.execute(
                "SELECT LOWER(VARIABLE_NAME), DEFAULT_VALUE FROM information_schema.SYSTEM_VARIABLES "
                "WHERE VARIABLE_NAME IN ('SORT_BUFFER_SIZE', 'JOIN_BUFFER_SIZE', 'READ_BUFFER_SIZE', "
                "'READ_RND_BUFFER_SIZE', 'THREAD_CACHE_SIZE')"
            )
            defaults = {name: int(value) for name, value in cur.fetchall()}
    finally:
        con.close()
    assert defaults.pop("thread_cache_size") == calc.MARIADB_THREAD_CACHE_DEFAULT
    assert defaults == calc.PER_THREAD_DEFAULT_MARIADB
