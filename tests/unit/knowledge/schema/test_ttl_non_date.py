"""SCH076: a TTL index on a field that holds no dates never deletes anything."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, Column, FieldSample, Index, Table
from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.schema.review import review_catalog


def _catalog(field: str, types: dict[str, int]) -> Catalog:
    columns = [
        Column(name="_id", data_type="objectId", sample=FieldSample(presence_pct=100, type_counts={"objectId": 100}))
    ]
    if types:
        columns.append(Column(name=field, data_type="mixed", sample=FieldSample(presence_pct=100, type_counts=types)))
    ttl = Index(name=f"{field}_ttl", columns=[field], ttl_seconds=3600)
    table = Table(name="sessions", kind="collection", columns=columns, indexes=[ttl], row_estimate=5000)
    return Catalog(engine="mongodb", database="app", tables=[table])


def _sch076(catalog: Catalog) -> list[Finding]:
    review = review_catalog(catalog, engine="mongodb", live=True)
    return [f for f in review.findings if f.rule_id == "SCH076"]


def test_ttl_on_a_string_field_is_flagged_with_a_conversion() -> None:
    (finding,) = _sch076(_catalog("created_at", {"string": 100}))
    assert "never deletes anything: the field holds no dates" in finding.title
    assert finding.evidence["sampled_types"] == '{"string": 100}'
    assert finding.fix is not None and "$toDate" in finding.fix.statements[0]


def test_ttl_on_a_missing_field_is_flagged_without_a_fix() -> None:
    (finding,) = _sch076(_catalog("expires", {}))
    assert "do not have the field" in finding.title and finding.fix is None


def test_ttl_on_dates_is_fine() -> None:
    assert _sch076(_catalog("created_at", {"date": 95, "string": 5})) == []
