"""QA pass 3 schema-rule fixes: SCH005 on SQL Server (defect 5), SQL Server rename and CHECK fixes
(defect 6), SCH036 on FLOAT(M,D) (defect 7) and SCH001's key for an identity column (defect 14)."""

from __future__ import annotations

from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.schema.review import review_ddl


def _findings(ddl: str, dialect: str, rule_id: str) -> list[Finding]:
    review = review_ddl(ddl, dialect=dialect)
    assert review.parse_warnings == []
    return [f for f in review.findings if f.rule_id == rule_id]


def test_sch005_redundant_prefix_index_on_tsql() -> None:
    ddl = (
        "CREATE TABLE dbo.T (Id INT PRIMARY KEY, A INT, B INT);\n"
        "CREATE INDEX IX_T_A ON dbo.T (A);\n"
        "CREATE INDEX IX_T_AB ON dbo.T (A, B);\n"
    )
    [finding] = _findings(ddl, "tsql", "SCH005")
    assert finding.evidence["covered_by"] == "IX_T_AB"
    assert finding.fix is not None and finding.fix.statements == ["DROP INDEX IX_T_A ON dbo.T;"]


def test_sch005_ignores_columnstore_on_tsql() -> None:
    ddl = (
        "CREATE TABLE dbo.T (Id INT PRIMARY KEY, A INT, B INT);\n"
        "CREATE INDEX IX_T_A ON dbo.T (A);\n"
        "CREATE NONCLUSTERED COLUMNSTORE INDEX NCCI_T ON dbo.T (A, B);\n"
    )
    assert _findings(ddl, "tsql", "SCH005") == []


def test_sch044_renames_with_sp_rename_on_tsql() -> None:
    ddl = (
        "CREATE TABLE dbo.Orders (Id INT PRIMARY KEY, CustomerName NVARCHAR(50), PlacedAt DATETIME2);\n"
        "CREATE TABLE dbo.Payments (Id INT PRIMARY KEY, Amount DECIMAL(10,2), PaidAt DATETIME2);\n"
        "CREATE TABLE dbo.order_lines (Id INT PRIMARY KEY, OrderId INT, created_at DATETIME2);\n"
    )
    [finding] = _findings(ddl, "tsql", "SCH044")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "EXEC sp_rename N'dbo.order_lines.created_at', N'CreatedAt', 'COLUMN';",
        "EXEC sp_rename N'dbo.order_lines', N'OrderLines';",
    ]


def test_sch044_mysql_rename_table_stays_in_its_database() -> None:
    ddl = (
        "CREATE TABLE shop.orders (id INT PRIMARY KEY, customer_name VARCHAR(50), placed_at DATETIME);\n"
        "CREATE TABLE shop.payments (id INT PRIMARY KEY, amount DECIMAL(10,2), paid_at DATETIME);\n"
        "CREATE TABLE shop.OrderLines (id INT PRIMARY KEY, order_id INT, createdAt DATETIME);\n"
    )
    [finding] = _findings(ddl, "mysql", "SCH044")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "ALTER TABLE shop.OrderLines RENAME COLUMN createdAt TO created_at;",
        "RENAME TABLE shop.OrderLines TO shop.order_lines;",
    ]


def test_sch038_tsql_adds_the_check_constraint() -> None:
    ddl = "CREATE TABLE dbo.Orders (Id INT PRIMARY KEY, Status VARCHAR(20) NOT NULL);\n"
    [finding] = _findings(ddl, "tsql", "SCH038")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "SELECT Status, count(*) FROM dbo.Orders GROUP BY Status ORDER BY 2 DESC;",
        "ALTER TABLE dbo.Orders ADD CONSTRAINT Orders_Status_check CHECK (Status IN ('<value 1>', '<value 2>'));",
    ]


def test_sch036_float_with_precision_and_scale() -> None:
    ddl = (
        "CREATE TABLE items (id INT PRIMARY KEY, price float(8,2) NOT NULL, cost double(10,4) unsigned,"
        " weight float(8,2));\n"
    )
    found = {f.subject: f for f in _findings(ddl, "mysql", "SCH036")}
    assert sorted(found) == ["items.cost", "items.price"]
    price_fix = found["items.price"].fix
    assert price_fix is not None
    assert price_fix.statements == ["ALTER TABLE items MODIFY COLUMN price DECIMAL(8,2) NOT NULL;"]


def test_sch001_suggests_the_identity_column() -> None:
    ddl = "CREATE TABLE dbo.Comments (Id INT IDENTITY(1,1) NOT NULL, PostId INT NOT NULL, Body NVARCHAR(200));\n"
    [finding] = _findings(ddl, "tsql", "SCH001")
    assert finding.fix is not None
    assert finding.fix.statements == ["ALTER TABLE dbo.Comments ADD PRIMARY KEY (Id);"]
