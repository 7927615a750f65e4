"""Store and index stay consistent: a saved index is reused, a gap left by a crash is repaired."""

from __future__ import annotations

from api.service import KnowledgeBase
from tests.conftest import DATA


def test_saved_index_is_loaded_without_re_embedding(settings_factory, embedder):
    settings = settings_factory()
    first = KnowledgeBase(settings, embedder)
    first.ingest([DATA / "practices.json"])
    first.close()
    second = KnowledgeBase(settings, embedder)
    calls = []
    original = embedder.encode_passages
    embedder.encode_passages = lambda texts, **kw: calls.append(len(texts)) or original(texts, **kw)
    try:
        second.open_index()
    finally:
        del embedder.encode_passages
    assert calls == [] and len(second.vectors) == second.store.stats()["chunks"]


def test_gap_between_store_and_index_is_repaired_on_open(settings_factory, embedder):
    settings = settings_factory()
    kb = KnowledgeBase(settings, embedder)
    kb.ingest([DATA / "practices.json"])
    saved = (settings.index_dir / "chunks.faiss").read_bytes(), (settings.index_dir / "manifest.json").read_bytes()
    kb.ingest([DATA / "practices.jsonl"])  # committed to the store ...
    kb.close()
    (settings.index_dir / "chunks.faiss").write_bytes(saved[0])  # ... but the index save "crashed"
    (settings.index_dir / "manifest.json").write_bytes(saved[1])

    reopened = KnowledgeBase(settings, embedder)
    reopened.open_index()
    assert len(reopened.vectors) == reopened.store.stats()["chunks"]
    hits = reopened.search("ciclovía en bicicleta los domingos", reopened_filters(), limit=1).hits
    assert hits[0].record.id == "bogota-ciclovia"


def reopened_filters():
    from kb.filters import Filters

    return Filters()


def test_another_model_is_refused_until_reindex(settings_factory, embedder):
    """KB_MODEL may be a sentence-transformers folder; an index built by another model is not mixed."""
    import pytest

    from index.embedder import Embedder, builtin_model_folder
    from kb.errors import IndexMismatch

    settings = settings_factory()
    kb = KnowledgeBase(settings, embedder)
    kb.ingest([DATA / "practices.json"])
    kb.close()

    other_settings = settings.model_copy(update={"model": str(builtin_model_folder(settings))})
    other = KnowledgeBase(other_settings, Embedder(other_settings))
    assert other.embedder.model_id == str(builtin_model_folder(settings))
    with pytest.raises(IndexMismatch, match="kb reindex"):
        other.open_index()
    assert other.reindex() == other.store.stats()["chunks"]
    hits = other.search("rainwater stored in parks and squares", reopened_filters(), limit=1).hits
    assert hits[0].record.id == "copenhagen-cloudburst-plan"


def test_name_terms_are_rare_capitalised_words_and_acronyms(loaded_kb):
    from index.keyword import KeywordIndex

    keywords = KeywordIndex(loaded_kb.store)
    assert {"vision", "zero"} <= set(keywords.name_terms("Vision Zero in New York"))
    assert keywords.name_terms("safety audits for women") == [], "plain lower-case words are left to the dense side"
    assert keywords.corrected_terms("Copenhaguen") == ["copenhaguen", "copenhagen"], "the closest indexed word is added"
    assert "copenhagen" in keywords.name_terms("Copenhaguen cloudburst"), "a misspelt name still earns its bonus"


def test_the_vocabulary_is_read_again_after_a_write_at_most_once_per_interval(tmp_path):
    """At 100k chunks reading the vocabulary takes ~0.5 s: during an ingest, searches must not pay it each time."""
    from index.keyword import KeywordIndex
    from kb.records import Chunk, Record
    from kb.store import Store

    store = Store(tmp_path / "kb.sqlite3")

    def add(record_id: str, text: str) -> None:
        store.upsert(Record(id=record_id, title=f"Practice {record_id}", summary=text), [Chunk(record_id, 0, text)])

    add("a", "The cloudburst plan of Copenhagen stores rain in parks.")
    eager, lazy = KeywordIndex(store, refresh_s=0), KeywordIndex(store, refresh_s=3600)
    assert eager.corrected_terms("Medelin") == lazy.corrected_terms("Medelin") == ["medelin"]
    add("b", "The Metrocable of Medellin links hillside neighbourhoods.")
    assert eager.corrected_terms("Medelin") == ["medelin", "medellin"]
    assert lazy.corrected_terms("Medelin") == ["medelin"], "read again only once its interval has passed"
    assert KeywordIndex(store).corrected_terms("Medelin") == ["medelin", "medellin"]


def test_index_kind_follows_the_size_threshold_without_re_embedding(settings_factory, embedder, loaded_kb):
    """KB_IVF_FROM_CHUNKS set low: the index is IVF, answers as the exact one does, and a restart with
    the threshold back up moves it to exact search with no re-embedding."""
    import json

    from kb.filters import Filters

    settings = settings_factory(ivf_from_chunks=10)
    kb = KnowledgeBase(settings, embedder)
    kb.ingest([DATA])
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["layout"]["kind"] == "ivf" and manifest["layout"]["recall_at_10"] >= 0.95
    for query in ("women's safety audit", "ciclovía en bicicleta los domingos", "végétalisation des cours d'école"):
        ivf = [h.record.id for h in kb.search(query, Filters(), limit=3).hits]
        exact = [h.record.id for h in loaded_kb.search(query, Filters(), limit=3).hits]
        assert ivf[0] == exact[0], query
    kb.close()

    calls = []
    original = embedder.encode_passages
    embedder.encode_passages = lambda texts, **kw: calls.append(len(texts)) or original(texts, **kw)
    try:
        reopened = KnowledgeBase(settings.model_copy(update={"ivf_from_chunks": 100_000}), embedder)
        reopened.open_index()
    finally:
        del embedder.encode_passages
    assert calls == [] and reopened.vectors.layout.kind == "flat"
    assert json.loads((settings.index_dir / "manifest.json").read_text())["layout"]["kind"] == "flat"
    assert len(reopened.vectors) == reopened.store.stats()["chunks"]


def test_use_vectors_follow_the_store_and_are_rebuilt_when_lost(settings_factory, embedder):
    """The second view used for re-ranking (index/use_vectors.py) has one vector per chunk: kept at
    ingest, dropped on delete, re-encoded from the store when its file is lost or damaged."""
    from kb.filters import Filters

    settings = settings_factory()
    kb = KnowledgeBase(settings, embedder)
    kb.ingest([DATA / "practices.json", DATA / "practices.jsonl"])
    chunks = kb.store.all_chunk_ids()
    assert sorted(kb._use_vectors.ids().tolist()) == sorted(chunks)
    before = [h.record.id for h in kb.search("ciclovía en bicicleta los domingos", Filters(), limit=3).hits]
    gone = kb.store.record_chunk_ids("bogota-ciclovia")
    kb.delete_record("bogota-ciclovia")
    assert not set(gone) & set(kb._use_vectors.ids().tolist())
    kb.close()

    path = settings.index_dir / "use_vectors.npz"
    path.write_bytes(path.read_bytes()[:-100])  # damaged: the checksum no longer matches
    reopened = KnowledgeBase(settings, embedder)
    reopened.open_index()
    assert sorted(reopened._use_vectors.ids().tolist()) == sorted(reopened.store.all_chunk_ids())
    after = [h.record.id for h in reopened.search("ciclovía en bicicleta los domingos", Filters(), limit=3).hits]
    kept = [r for r in before if r != "bogota-ciclovia"]
    assert "bogota-ciclovia" in before and after[: len(kept)] == kept, "same ranking with the rebuilt vectors"
