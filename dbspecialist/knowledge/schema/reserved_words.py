"""Words that cannot be used as a table or column name without quoting, per engine.

Our own lists, kept as plain data so rules stay pure (no parser import at review time):

- PostgreSQL: the "reserved" and "reserved (can be function or type)" categories of PostgreSQL's
  keyword table (PostgreSQL docs, Appendix C "SQL Key Words"; the same lists ship with pglast as
  `pglast.keywords.RESERVED_KEYWORDS` and `TYPE_FUNC_NAME_KEYWORDS`, and a unit test keeps them equal).
- MySQL: the words marked (R) in the MySQL 8.0 manual, "Keywords and Reserved Words".
- SQLite: the keywords of SQLite's "SQL Keywords" page that its parser does not fall back to
  identifiers for (checked against the sqlite3 library by a unit test: each one fails unquoted as a
  table or column name).
"""

from __future__ import annotations

from typing import Final


def _split(text: str) -> list[str]:
    return text.split()


POSTGRESQL_RESERVED: Final = frozenset(
    _split(
        """
        all analyse analyze and any array as asc asymmetric both case cast check collate column
        constraint create current_catalog current_date current_role current_time current_timestamp
        current_user default deferrable desc distinct do else end except false fetch for foreign from
        grant group having in initially intersect into lateral leading limit localtime localtimestamp
        not null offset on only or order placing primary references returning select session_user some
        symmetric system_user table then to trailing true union unique user using variadic when where
        window with authorization binary collation concurrently cross current_schema freeze full ilike
        inner is isnull join left like natural notnull outer overlaps right similar tablesample verbose
        """
    )
)

MYSQL_RESERVED: Final = frozenset(
    _split(
        """
        accessible add all alter analyze and as asc asensitive before between bigint binary blob both by
        call cascade case change char character check collate column condition constraint continue
        convert create cross cube cume_dist current_date current_time current_timestamp current_user
        cursor database databases day_hour day_microsecond day_minute day_second dec decimal declare
        default delayed delete dense_rank desc describe deterministic distinct distinctrow div double
        drop dual each else elseif empty enclosed escaped except exists exit explain false fetch
        first_value float float4 float8 for force foreign from fulltext function generated get grant
        group grouping groups having high_priority hour_microsecond hour_minute hour_second if ignore in
        index infile inner inout insensitive insert int int1 int2 int3 int4 int8 integer intersect
        interval into io_after_gtids io_before_gtids is iterate join json_table key keys kill lag
        last_value lateral lead leading leave left like limit linear lines load localtime localtimestamp
        lock long longblob longtext loop low_priority master_bind master_ssl_verify_server_cert match
        maxvalue mediumblob mediumint mediumtext middleint minute_microsecond minute_second mod modifies
        natural not no_write_to_binlog nth_value ntile null numeric of on optimize optimizer_costs
        option optionally or order out outer outfile over partition percent_rank precision primary
        procedure purge range rank read reads read_write real recursive references regexp release rename
        repeat replace require resignal restrict return revoke right rlike row rows row_number schema
        schemas second_microsecond select sensitive separator set show signal smallint spatial specific
        sql sqlexception sqlstate sqlwarning sql_big_result sql_calc_found_rows sql_small_result ssl
        starting stored straight_join system table terminated then tinyblob tinyint tinytext to trailing
        trigger true undo union unique unlock unsigned update usage use using utc_date utc_time
        utc_timestamp values varbinary varchar varcharacter varying virtual when where while window with
        write xor year_month zerofill
        """
    )
)

SQLITE_RESERVED: Final = frozenset(
    _split(
        """
        add all alter and as autoincrement between case cast check collate commit constraint create
        default deferrable delete distinct drop else escape except exists foreign from group having if
        in index insert intersect into is isnull join limit not nothing notnull null on or order primary
        raise references returning select set table then to transaction union unique update using values
        when where
        """
    )
)

_BY_ENGINE: Final = {"postgresql": POSTGRESQL_RESERVED, "mysql": MYSQL_RESERVED, "sqlite": SQLITE_RESERVED}


def reserved_words(engine: str) -> frozenset[str]:
    """The reserved words of `engine` (lower case); empty for engines we keep no list for."""
    return _BY_ENGINE.get(engine, frozenset())


def is_reserved(name: str, engine: str) -> bool:
    return name.lower() in reserved_words(engine)
