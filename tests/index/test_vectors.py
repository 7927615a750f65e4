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
    index.add(np.arange(1000, 1000 + n), vectors)
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
    assert np.allclose(index.vectors([1006])[0], vectors[6])


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
