"""Chunk vectors in FAISS, centred per language, with a JSON manifest naming the model; saved atomically, no pickle."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.centering import LanguageCentroids
from kb.errors import IndexMismatch

MANIFEST_VERSION = 2  # 2: vectors are stored centred per language (index/centering.py)


@dataclass(frozen=True)
class Manifest:
    model_id: str
    dim: int
    count: int
    checksum: str
    version: int = MANIFEST_VERSION
    centroids: dict | None = None


class VectorIndex:
    """Exact inner-product search over normalised chunk vectors, keyed by chunk id.

    Filters reach inside the search through a FAISS ID selector, so a filtered query ranks
    only the chunks that may be returned instead of post-filtering a global top-k. Each vector is
    stored minus the mean of its language, so a raw query vector scores q · (d - mean[lang(d)]).
    """

    def __init__(self, model_id: str, dim: int):
        import faiss

        self.model_id = model_id
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._lock = threading.RLock()
        self.centroids = LanguageCentroids(dim)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        import faiss

        with self._lock:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray, languages: list[str]) -> None:
        """Add raw (normalised) vectors; each is stored minus its language's mean."""
        if len(ids) == 0:
            return
        with self._lock:
            centred = np.asarray(vectors, np.float32) - self.centroids.offsets(languages)
            self._index.add_with_ids(np.ascontiguousarray(centred, np.float32), np.asarray(ids, np.int64))

    def recenter(self, language_of: dict[int, str]) -> None:
        """Refit the language means on all vectors and re-store them (exact: no re-embedding)."""
        with self._lock:
            ids = self.ids()
            if len(ids) == 0:
                return
            languages = [language_of.get(int(i), "und") for i in ids]
            stored = self._index.index.reconstruct_n(0, len(ids))
            raw = stored + self.centroids.offsets(languages)
            self.centroids = LanguageCentroids.fit(raw, languages, self.dim)
            self._index.reset()
            self._index.add_with_ids(np.ascontiguousarray(raw - self.centroids.offsets(languages), np.float32), ids)

    def remove(self, ids: list[int] | np.ndarray) -> None:
        if len(ids) == 0:
            return
        with self._lock:
            self._index.remove_ids(np.asarray(ids, np.int64))

    def raw_vectors(self, ids: list[int], languages: list[str]) -> np.ndarray:
        """The vectors as the model made them (stored vector plus its language's mean)."""
        if not ids:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            stored = np.vstack([self._index.reconstruct(int(i)) for i in ids])
            return stored + self.centroids.offsets(languages)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, chunk ids) for one query vector, among `allowed` ids when given."""
        import faiss

        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, np.int64)))
        with self._lock:
            scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    # --- persistence ---------------------------------------------------------------------------
    def save(self, folder: Path) -> Manifest:
        """Write index then manifest via temporary files and rename, so a crash leaves the old pair."""
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            data = faiss.serialize_index(self._index).tobytes()
            manifest = Manifest(self.model_id, self.dim, len(self), hashlib.sha256(data).hexdigest(),
                                centroids=self.centroids.to_json())
        _atomic_write(folder / "chunks.faiss", data)
        _atomic_write(folder / "manifest.json", json.dumps(manifest.__dict__, indent=2).encode())
        return manifest

    @classmethod
    def load(cls, folder: Path, model_id: str) -> VectorIndex | None:
        """The saved index, or None when there is none (or it is damaged: it will be rebuilt)."""
        import faiss

        manifest_path, index_path = folder / "manifest.json", folder / "chunks.faiss"
        if not (manifest_path.exists() and index_path.exists()):
            return None
        fields = json.loads(manifest_path.read_text())
        if fields.get("version") != MANIFEST_VERSION:
            return None  # an older layout: rebuilt from the store
        manifest = Manifest(**fields)
        if manifest.model_id != model_id:
            raise IndexMismatch(
                f"the index in {folder} was built with model {manifest.model_id!r}, not {model_id!r}; "
                "run `kb reindex` to rebuild it with the configured model"
            )
        data = index_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != manifest.checksum:
            return None
        index = cls(model_id, manifest.dim)
        index._index = faiss.deserialize_index(np.frombuffer(data, np.uint8))
        index.centroids = LanguageCentroids.from_json(manifest.centroids or {}, manifest.dim)
        return index


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
