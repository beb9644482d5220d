"""QA pass 3, SQL Server DDL: GO batch separators after `;` (defect 1), WITH NOCHECK constraints
(defect 14) and columnstore indexes kept apart from B-trees (defect 5)."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.ddl.sqlglot_ddl import parse_with_sqlglot

# Each table ends in ';' and is followed by a GO line: what SSMS and most hand-written scripts look like.
GO_AFTER_SEMICOLON = """\
CREATE TABLE dbo.Customers (
    CustomerId INT IDENTITY(1,1) NOT NULL,
    Email NVARCHAR(320) NOT NULL,
    CONSTRAINT PK_Customers PRIMARY KEY CLUSTERED (CustomerId)
);
GO
CREATE UNIQUE NONCLUSTERED INDEX UX_Customers_Email ON dbo.Customers (Email);
GO
CREATE TABLE dbo.Orders (
    OrderId BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
    CustomerId INT NOT NULL,
    Status VARCHAR(20) NOT NULL DEFAULT 'pending',
    CONSTRAINT FK_Orders_Customers FOREIGN KEY (CustomerId) REFERENCES dbo.Customers (CustomerId)
);
go 2
CREATE TABLE dbo.Notes (
    Id INT NOT NULL PRIMARY KEY,
    Body NVARCHAR(200) NOT NULL DEFAULT 'GO
GO'
);
/*
GO
*/
CREATE TABLE dbo.Tags (Id INT NOT NULL PRIMARY KEY, Name NVARCHAR(50) NOT NULL);
   GO\t
CREATE INDEX IX_Orders_Customer ON dbo.Orders (CustomerId);
"""


def _table(tables: list[Table], name: str) -> Table:
    return next(t for t in tables if t.name == name)


def test_go_after_semicolon_keeps_every_statement() -> None:
    parsed = parse_with_sqlglot(GO_AFTER_SEMICOLON, "tsql")
    assert parsed.warnings == []
    tables = parsed.catalog.tables
    assert [t.name for t in tables] == ["Customers", "Orders", "Notes", "Tags"]
    assert _table(tables, "Customers").source_line == 1
    assert _table(tables, "Orders").source_line == 9
    assert _table(tables, "Notes").source_line == 16
    assert _table(tables, "Tags").source_line == 24
    orders = _table(tables, "Orders")
    assert [(i.name, i.source_line) for i in orders.indexes if i.name == "IX_Orders_Customer"] == [
        ("IX_Orders_Customer", 26)
    ]
    assert [i.name for i in _table(tables, "Customers").indexes if i.unique and not i.primary] == ["UX_Customers_Email"]
    # a GO line inside a string literal or a block comment is not a separator
    body = next(c for c in _table(tables, "Notes").columns if c.name == "Body")
    assert body.default is not None and "GO" in body.default


SSMS_NOCHECK = """\
CREATE TABLE dbo.Posts (Id INT NOT NULL PRIMARY KEY);
GO
CREATE TABLE dbo.Comments (Id INT IDENTITY(1,1) NOT NULL, PostId INT NOT NULL, Score INT NULL);
GO
ALTER TABLE [dbo].[Comments]  WITH NOCHECK ADD  CONSTRAINT [FK_Comments_Posts] FOREIGN KEY([PostId])
REFERENCES [dbo].[Posts] ([Id])
GO
ALTER TABLE [dbo].[Comments] CHECK CONSTRAINT [FK_Comments_Posts]
GO
ALTER TABLE [dbo].[Comments]  WITH CHECK ADD  CONSTRAINT [CK_Comments_Score] CHECK (([Score]>(0)))
GO
"""


def test_with_nocheck_constraint_is_not_validated() -> None:
    parsed = parse_with_sqlglot(SSMS_NOCHECK, "tsql")
    assert parsed.warnings == []
    comments = _table(parsed.catalog.tables, "Comments")
    # WITH NOCHECK ADD: the rows were never checked; the later plain CHECK CONSTRAINT only enables it
    assert [(fk.name, fk.validated) for fk in comments.foreign_keys] == [("FK_Comments_Posts", False)]
    assert [(c.name, c.validated) for c in comments.check_constraints] == [("CK_Comments_Score", True)]


def test_check_and_nocheck_constraint_change_trust() -> None:
    trusted = parse_with_sqlglot(SSMS_NOCHECK + "ALTER TABLE dbo.Comments WITH CHECK CHECK CONSTRAINT ALL;\n", "tsql")
    comments = _table(trusted.catalog.tables, "Comments")
    assert [fk.validated for fk in comments.foreign_keys] == [True]
    disabled = parse_with_sqlglot(
        SSMS_NOCHECK + "ALTER TABLE dbo.Comments NOCHECK CONSTRAINT CK_Comments_Score;\n", "tsql"
    )
    comments = _table(disabled.catalog.tables, "Comments")
    assert [c.validated for c in comments.check_constraints] == [False]
    assert [fk.validated for fk in comments.foreign_keys] == [False]


def test_columnstore_index_method() -> None:
    ddl = (
        "CREATE TABLE dbo.Sales (Id INT NOT NULL PRIMARY KEY, A INT, B INT);\n"
        "CREATE NONCLUSTERED COLUMNSTORE INDEX NCCI_Sales ON dbo.Sales (A, B);\n"
        "CREATE NONCLUSTERED INDEX IX_Sales_A ON dbo.Sales (A);\n"
    )
    sales = _table(parse_with_sqlglot(ddl, "tsql").catalog.tables, "Sales")
    methods = {i.name: i.method for i in sales.indexes}
    assert methods["NCCI_Sales"] == "columnstore" and methods["IX_Sales_A"] == "nonclustered"
