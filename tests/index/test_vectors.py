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
