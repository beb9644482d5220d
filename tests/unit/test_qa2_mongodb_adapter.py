"""QA pass 2 (MongoDB adapter, no server): index collations are kept, and a time-series collection is a
collection with its indexes and statistics (listCollections type "timeseries" on MongoDB 5.0+), not a view."""

from __future__ import annotations

from dbspecialist.adapters.mongodb import _Bulk, _index, _is_collection, _Schema, _table

FR = {"locale": "fr", "caseLevel": False, "strength": 3, "numericOrdering": False, "version": "57.1"}


def test_index_collation_is_kept_and_simple_is_none() -> None:
    spec = {"v": 2, "key": {"cat": 1}, "name": "cat_again", "collation": FR}
    assert _index({"name": "cat_again", "spec": spec}, {}).collation == FR
    assert _index({"name": "cat_1", "spec": {"key": {"cat": 1}, "name": "cat_1"}}, {}).collation is None
    simple = {"key": {"cat": 1}, "name": "c", "collation": {"locale": "simple"}}
    assert _index({"name": "c", "spec": simple}, {}).collation is None


def test_time_series_collection_is_a_collection_with_indexes_and_stats() -> None:
    info = {
        "name": "weather",
        "type": "timeseries",
        "options": {"timeseries": {"timeField": "ts", "metaField": "sensor", "granularity": "seconds"}},
    }
    assert _is_collection(info)
    bulk = _Bulk(
        stats={"weather": {"count": 1200, "size": 50_000}},
        indexes={
            "weather": [{"name": "sensor_1_ts_1", "spec": {"key": {"sensor": 1, "ts": 1}, "name": "sensor_1_ts_1"}}]
        },
    )
    schema = _Schema()
    schema.observe({"ts": 1, "sensor": "a"}, 40)
    table = _table("shop", info, bulk, schema)
    assert table.kind == "collection" and table.row_estimate == 1200
    assert [i.name for i in table.indexes] == ["sensor_1_ts_1"]
    assert table.stats["time_series"] is True and "timeseries" in table.options
    assert table.comment is not None and "time-series" in table.comment
    view = _table("shop", {"name": "v", "type": "view", "options": {"viewOn": "weather", "pipeline": []}}, bulk, None)
    assert view.kind == "view"


def test_summary_lines_show_mixed_sampled_types_and_index_options() -> None:
    from dbspecialist.adapters.catalog import Column, FieldSample, Index
    from dbspecialist.server.schema_view import column_text, index_text

    age = Column(
        name="age",
        data_type="int",
        nullable=False,
        sample=FieldSample(presence_pct=100.0, type_counts={"int": 83, "string": 17}),
    )
    assert column_text(age) == "age int 83% | string 17% NOT NULL"
    plain = Column(
        name="email",
        data_type="string",
        nullable=False,
        sample=FieldSample(presence_pct=100.0, type_counts={"string": 100}),
    )
    assert column_text(plain) == "email string NOT NULL"
    ttl = Index(name="ttl_created", columns=["created_at"], ttl_seconds=3600)
    assert index_text(ttl) == "ttl_created (created_at) TTL 3600s"
    zip_ = Index(name="zip_1", columns=["address.zip"], sparse=True, collation={"locale": "fr"})
    assert index_text(zip_) == "zip_1 (address.zip) SPARSE COLLATION fr"
