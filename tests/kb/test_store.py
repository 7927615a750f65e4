from __future__ import annotations

import pytest

from kb.errors import NotFound
from kb.filters import Filters
from kb.records import Chunk, Record
from kb.store import Store


def practice(record_id: str, summary: str = "A summary.", **fields) -> Record:
    return Record(id=record_id, title=f"Title {record_id}", summary=summary, **fields)


def chunks_of(record: Record, n: int = 2) -> list[Chunk]:
    return [Chunk(record.id, i, f"chunk {i} of {record.id}") for i in range(n)]


def test_upsert_adds_then_is_a_no_op_then_updates(tmp_path):
    store = Store(tmp_path / "kb.sqlite3")
    record = practice("a")
    first = store.upsert(record, chunks_of(record))
    assert first.status == "added" and len(first.added_chunk_ids) == 2
    again = store.upsert(record, chunks_of(record))
    assert again.status == "unchanged" and again.added_chunk_ids == [] and again.removed_chunk_ids == []
    changed = practice("a", "A new summary.")
    update = store.upsert(changed, chunks_of(changed, 3))
    assert update.status == "updated"
    assert update.removed_chunk_ids == first.added_chunk_ids
    assert min(update.added_chunk_ids) > max(first.added_chunk_ids), "chunk ids are never reused"
    assert store.stats()["records"] == 1 and store.stats()["chunks"] == 3
    assert store.get("a").record.summary == "A new summary."


def test_delete_returns_chunk_ids_and_unknown_is_not_found(tmp_path):
    store = Store(tmp_path / "kb.sqlite3")
    record = practice("a")
    added = store.upsert(record, chunks_of(record)).added_chunk_ids
    assert store.delete("a") == added
    with pytest.raises(NotFound, match="'a'"):
        store.get("a")
    with pytest.raises(NotFound):
        store.delete("a")


def test_failed_transaction_leaves_nothing(tmp_path):
    store = Store(tmp_path / "kb.sqlite3")
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.upsert(practice("a"), [])
            raise RuntimeError("crash in the middle of a batch")
    assert store.stats()["records"] == 0


def test_filters_and_facets(tmp_path):
    store = Store(tmp_path / "kb.sqlite3")
    rows = [
        practice("fr1", language="fr", country="FR", sdgs=[5, 11], gender_perspective=True, year=2016, topics=["safety"]),
        practice("es1", language="es", country="CO", sdgs=[11], year=2020, city="Bogotá"),
        practice("en1", language="en", country="US", sdgs=[3], year=2014),
    ]
    for r in rows:
        store.upsert(r, chunks_of(r, 1))
    assert set(store.record_ids(Filters(sdgs=frozenset({5, 3})))) == {"fr1", "en1"}
    assert store.record_ids(Filters(gender=True)) == ["fr1"]
    assert store.record_ids(Filters(city="bogotá")) == ["es1"]
    assert set(store.record_ids(Filters(year_from=2015))) == {"fr1", "es1"}
    assert store.record_ids(Filters(topic="Safety")) == ["fr1"]
    assert len(store.chunk_ids(Filters(language="es"))) == 1
    facets = store.facets(Filters(sdgs=frozenset({11})))
    assert facets["language"] == {"es": 1, "fr": 1}
    assert facets["sdg"] == {"5": 1, "11": 2}
    assert facets["gender_perspective"] == {"false": 1, "true": 1}


def test_statements_about_one_record_stay_on_its_suggestions(tmp_path):
    """Every statement about one record's suggestions must be led by the (record_id, tag, value) key. Led by
    a status index, SQLite scanned every pending suggestion of the collection per record: ingest and the
    review queue slowed quadratically (the queue's count took 58 s at 10k records)."""
    from kb.tags import Suggestion, TagDecision

    store = Store(tmp_path / "kb.sqlite3")
    for i in range(3):
        record = practice(f"r{i}", sdgs=[11])
        store.upsert(record, chunks_of(record), suggestions=[Suggestion("sdg", 5, 0.9), Suggestion("gender", 1, 0.8)], tagger="tagger")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    record = practice("r0", "Changed.", sdgs=[11])
    store.upsert(record, chunks_of(record), suggestions=[Suggestion("sdg", 5, 0.7)], tagger="tagger")
    store.set_suggestions("r1", "tagger", [Suggestion("sdg", 6, 0.6)])
    store.review_queue(0.5, 10, 0)
    store.decide_tags("r2", TagDecision(accept=frozenset({5})), "staff")
    store.count(Filters(gender=True)), store.chunk_ids(Filters(sdgs=frozenset({5})))
    store._db.set_trace_callback(None)

    on_one_record = [s for s in statements if "suggestions" in s and "record_id =" in s and not s.startswith("INSERT")]
    assert len(on_one_record) >= 5
    for sql in on_one_record:
        plan = " | ".join(row[3] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "suggestions_by_status" not in plan, f"{sql}\n{plan}"
        assert "USING INDEX sqlite_autoindex_suggestions_1 (record_id=?" in plan, f"{sql}\n{plan}"
