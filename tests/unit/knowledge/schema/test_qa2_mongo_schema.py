"""QA pass 2 (MongoDB schema review): collations keep indexes apart (SCH075); the inferred validator accepts any
number (SCH073) and is not proposed for time-series collections."""

from __future__ import annotations

import json

from tests.unit.knowledge.schema.test_rules_documents_keys import coll, fld, idx, run

FR = {"locale": "fr", "strength": 3}


def test_an_index_with_another_collation_is_not_redundant() -> None:
    table = coll("items", indexes=[idx("cat_1", "cat"), idx("cat_again", "cat", collation=FR)])
    assert run("SCH075", table) == []
    longer = coll("items", indexes=[idx("cat_1", "cat"), idx("cat_1_n_1", "cat", "n", collation=FR)])
    assert run("SCH075", longer) == []


def test_same_collation_still_counts_as_a_prefix() -> None:
    table = coll("items", indexes=[idx("cat_fr", "cat", collation=FR), idx("cat_n_fr", "cat", "n", collation=FR)])
    [finding] = run("SCH075", table)
    assert finding.evidence["index"] == "cat_fr" and finding.evidence["covered_by"] == "cat_n_fr"


def _schema(statement: str) -> dict[str, object]:
    prefix = 'db.runCommand({collMod: "orders", validator: {$jsonSchema: '
    suffix = '}, validationLevel: "moderate", validationAction: "warn"})'
    result: dict[str, object] = json.loads(statement[len(prefix) : -len(suffix)])
    return result


def test_validator_numbers_accept_every_numeric_type() -> None:
    columns = [
        fld("_id", {"objectId": 100}),
        fld("total", {"double": 100}),
        fld("user_id", {"int": 100}),
        fld("big", {"int": 70, "long": 30}),
        fld("price", {"decimal": 100}),
        fld("age", {"int": 80, "string": 20}),
    ]
    [finding] = run("SCH073", coll("orders", columns))
    assert finding.fix is not None
    properties = _schema(finding.fix.statements[0])["properties"]
    assert properties == {
        "_id": {"bsonType": "objectId"},
        "age": {"bsonType": ["number", "string"]},
        "big": {"bsonType": "number"},
        "price": {"bsonType": "decimal"},  # only ever decimal: kept as the deliberate choice
        "total": {"bsonType": "number"},
        "user_id": {"bsonType": "number"},
    }


def test_time_series_collections_get_no_validator_finding() -> None:
    columns = [fld("_id", {"objectId": 100}), fld("ts", {"date": 100})]
    assert run("SCH073", coll("weather", columns, stats={"time_series": True})) == []
    assert len(run("SCH073", coll("weather", columns))) == 1
