"""The FAISS wrapper on seeded random vectors: selectors, removal, save/load, model mismatch."""

from __future__ import annotations

import numpy as np
import pytest

from index.vectors import VectorIndex
from kb.errors import IndexMismatch


def random_index(n: int = 200, dim: int = 16, seed: int = 7) -> tuple[VectorIndex, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex("test-model", dim)
    index.add(np.arange(1000, 1000 + n), vectors, ["en"] * n)
    return index, vectors


def test_exact_search_finds_the_vector_itself():
    index, vectors = random_index()
    scores, ids = index.search(vectors[5], 3)
    assert ids[0] == 1005 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores) == sorted(scores, reverse=True)


def test_selector_restricts_the_search_and_still_fills_k():
    index, vectors = random_index()
    allowed = np.array([1190, 1191, 1192, 1193, 1194])
    scores, ids = index.search(vectors[5], 5, allowed)
    assert sorted(ids) == list(allowed), "all allowed ids come back even though none is in the global top 5"
    assert len(index.search(vectors[5], 5, np.array([], np.int64))[1]) == 0


def test_remove_and_reconstruct():
    index, vectors = random_index()
    index.remove([1005])
    assert len(index) == 199 and 1005 not in set(index.ids())
    assert np.allclose(index.raw_vectors([1006], ["en"])[0], vectors[6])


def test_save_load_round_trip_and_model_mismatch(tmp_path):
    index, vectors = random_index()
    manifest = index.save(tmp_path)
    assert manifest.count == 200 and manifest.model_id == "test-model"
    loaded = VectorIndex.load(tmp_path, "test-model")
    assert loaded is not None and len(loaded) == 200
    assert list(loaded.search(vectors[9], 4)[1]) == list(index.search(vectors[9], 4)[1])
    with pytest.raises(IndexMismatch, match="kb reindex"):
        VectorIndex.load(tmp_path, "another-model")


def test_damaged_index_file_is_not_loaded(tmp_path):
    index, _ = random_index()
    index.save(tmp_path)
    path = tmp_path / "chunks.faiss"
    path.write_bytes(path.read_bytes()[:-10])
    assert VectorIndex.load(tmp_path, "test-model") is None, "a checksum mismatch means: rebuild"
    assert VectorIndex.load(tmp_path / "empty", "test-model") is None


def test_recentering_is_exact_and_keeps_one_language_rankings():
    index, vectors = random_index()
    before = index.search(vectors[3], 10)
    index.recenter({1000 + i: "en" for i in range(200)})
    assert index.centroids.counts == {"en": 200}
    assert np.allclose(index.raw_vectors([1003], ["en"])[0], vectors[3], atol=1e-5), "raw vectors survive re-centring"
    after = index.search(vectors[3], 10)
    assert list(after[1]) == list(before[1]), "one shared offset cannot change a one-language ranking"


def test_centering_removes_a_language_offset(tmp_path):
    """Two 'languages' whose vectors share an offset: without centring the query's side wins."""
    rng = np.random.default_rng(3)
    dim, n = 32, 100
    topics = rng.normal(size=(n, dim))
    offset = np.zeros(dim)
    offset[0] = 6.0  # larger than the topic signal
    english = topics + offset  # every English vector carries the same language component
    spanish = topics - offset
    vectors = np.vstack([english, spanish]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex("test-model", dim)
    ids = np.arange(2 * n)
    languages = ["en"] * n + ["es"] * n
    index.add(ids, vectors, languages)
    query = vectors[n + 7]  # a Spanish text about topic 7
    plain_top = index.search(query, 10)[1]
    assert all(i >= n for i in plain_top), "uncentred, only Spanish vectors come first"
    index.recenter(dict(zip(ids.tolist(), languages, strict=True)))
    top = index.search(query, 2)[1]
    assert set(top) == {7, n + 7}, "centred, the English text on the same topic ranks with the Spanish one"
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, "test-model")
    assert list(loaded.search(query, 2)[1]) == list(top), "the centroids are saved with the index"


def clustered(n: int, dim: int = 32, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim))
    vectors = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_index_turns_ivf_at_the_threshold_and_back_below_it(tmp_path):
    vectors = clustered(3000)
    index = VectorIndex("test-model", 32, ivf_from=2000)
    index.add(np.arange(1999), vectors[:1999], ["en"] * 1999)
    assert not index.fit_layout() and index.layout.kind == "flat"
    index.add(np.arange(1999, 3000), vectors[1999:], ["en"] * 1001)
    assert index.fit_layout() and index.layout.kind == "ivf"
    assert index.layout.recall_at_10 >= 0.95 and 1 <= index.layout.nprobe <= index.layout.nlist
    assert len(index) == 3000 and sorted(index.ids()) == list(range(3000))
    assert np.allclose(index.raw_vectors([17], ["en"])[0], vectors[17], atol=1e-5), "vectors move unchanged"

    narrow = np.arange(0, 3000, 97)  # a filter keeping 1% of the collection
    scores, ids = index.search(vectors[5], 10, narrow)
    exact = narrow[np.argsort(-(vectors[narrow] @ vectors[5]))][:10]
    assert list(ids) == list(exact), "a narrow filter probes enough lists to return its exact top 10"

    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, "test-model", ivf_from=2000)
    assert loaded.layout == index.layout and list(loaded.search(vectors[9], 5)[1]) == list(index.search(vectors[9], 5)[1])
    loaded.remove(np.arange(1500))  # 1500 left: below 80% of the threshold
    assert loaded.fit_layout() and loaded.layout.kind == "flat" and len(loaded) == 1500
    assert loaded.search(vectors[2000], 1)[1][0] == 2000


def test_ivf_recall_on_real_query_and_passage_vectors(embedder):
    """The model's own vectors: corpus sentences as chunks, the judged corpus queries as questions.
    recall@10 of the IVF index against exact search must hold the promised 0.95."""
    import json
    from pathlib import Path

    from kb.text import split_sentences

    root = Path(__file__).parents[2]
    sentences = []
    for path in sorted((root / "corpus" / "practices").glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            sentences += [s for s in split_sentences(record.get("description", "")) if len(s) > 40]
    sentences = sentences[:2400]
    queries = [json.loads(line)["query"] for line in (root / "bench" / "corpus_queries.jsonl").read_text().splitlines() if line.strip()]
    passages = embedder.encode_passages(sentences)
    asked = embedder.encode_queries(queries)

    exact = VectorIndex("m", embedder.dim, ivf_from=0)
    approximate = VectorIndex("m", embedder.dim, ivf_from=1000)
    for index in (exact, approximate):
        index.add(np.arange(len(sentences)), passages, ["en"] * len(sentences))
        index.recenter(dict.fromkeys(range(len(sentences)), "en"))  # stored centred, as in the product
        index.fit_layout()
    assert exact.layout.kind == "flat" and approximate.layout.kind == "ivf"
    found = [len(set(exact.search(q, 10)[1]) & set(approximate.search(q, 10)[1])) / 10 for q in asked]
    assert len(sentences) > 2000 and np.mean(found) >= 0.95, f"recall@10 {np.mean(found):.3f} over {len(queries)} queries"


def test_use_vectors_add_remove_get_and_damage(tmp_path):
    from index.use_vectors import DIM, ChunkUseVectors

    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(6, DIM)).astype(np.float32)
    store = ChunkUseVectors()
    store.add([30, 10, 20], vectors[:3])
    store.add([40, 20], vectors[3:5])  # 20 is replaced
    store.remove([10])
    ids, got = store.get([20, 10, 40, 99])
    assert ids.tolist() == [20, 40] and np.allclose(got, vectors[[4, 3]], atol=1e-2)
    store.save(tmp_path)
    loaded = ChunkUseVectors.load(tmp_path)
    assert loaded.ids().tolist() == [20, 30, 40]
    (tmp_path / "use_vectors.npz").write_bytes(b"not an npz")
    assert len(ChunkUseVectors.load(tmp_path)) == 0, "damaged: empty, so the store re-encodes"
