"""Chunk vectors in FAISS, centred per language, with a JSON manifest naming the model; saved atomically, no pickle.

The FAISS index is exact up to `ivf_from` vectors and an IVF index beyond (index/layout.py)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.centering import LanguageCentroids
from index.layout import Layout, all_ids, all_vectors, build_flat, build_ivf, needs_rebuild, one_search_thread, probes_for
from kb.errors import IndexMismatch

MANIFEST_VERSION = 2  # 2: vectors are stored centred per language (index/centering.py)


class ChunkSubset:
    """The chunk ids a filtered search may return, with FAISS's selector built once: the search cache
    (index/search.py) keeps one per filter, and building the selector for 100k ids costs about 5 ms."""

    def __init__(self, ids: list[int] | np.ndarray):
        self.ids = np.asarray(ids, np.int64)
        self._selector = None

    def __len__(self) -> int:
        return len(self.ids)

    def selector(self):
        import faiss

        if self._selector is None:  # two threads may both build it: the same set either way
            self._selector = faiss.IDSelectorBatch(self.ids)
        return self._selector


@dataclass(frozen=True)
class Manifest:
    model_id: str
    dim: int
    count: int
    checksum: str
    version: int = MANIFEST_VERSION
    centroids: dict | None = None
    layout: dict | None = None  # index/layout.py Layout; absent in indexes saved before IVF existed


class VectorIndex:
    """Inner-product search over normalised chunk vectors, keyed by chunk id.

    Filters reach inside the search through a FAISS ID selector, so a filtered query ranks
    only the chunks that may be returned instead of post-filtering a global top-k. Each vector is
    stored minus the mean of its language, so a raw query vector scores q · (d - mean[lang(d)]).
    """

    def __init__(self, model_id: str, dim: int, ivf_from: int = 100_000):
        self.model_id = model_id
        self.dim = dim
        self.ivf_from = ivf_from
        self._index, self.layout = build_flat(dim, np.zeros(0, np.int64), np.zeros((0, dim), np.float32))
        self._lock = threading.RLock()
        self.centroids = LanguageCentroids(dim)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        import faiss

        with self._lock:
            if self.layout.kind == "ivf":
                return all_ids(self._index)
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def _stored(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors as stored, i.e. centred)."""
        if self.layout.kind == "ivf":
            return all_vectors(self._index)
        ids = self.ids()
        return ids, self._index.index.reconstruct_n(0, len(ids)) if len(ids) else np.zeros((0, self.dim), np.float32)

    def _rebuild(self, ids: np.ndarray, stored: np.ndarray, kind: str, centroids: LanguageCentroids) -> None:
        """Build the new FAISS index outside the lock (training IVF lists takes seconds), so searches go on
        against the old pair until the swap. Writers (add, remove, rebuilds) are serialised by the caller."""
        build = build_ivf if kind == "ivf" and len(ids) else build_flat
        index, layout = build(self.dim, ids, stored)
        with self._lock:
            self._index, self.layout, self.centroids = index, layout, centroids

    def fit_layout(self) -> bool:
        """Move to the index kind the collection's size calls for (exact or IVF); True when rebuilt.
        No re-embedding: the stored vectors are moved as they are."""
        with self._lock:
            kind = needs_rebuild(self.layout, len(self), self.ivf_from)
            if kind is None:
                return False
            ids, stored = self._stored()
        self._rebuild(ids, stored, kind, self.centroids)
        return True

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
            ids, stored = self._stored()
        if len(ids) == 0:
            return
        languages = [language_of.get(int(i), "und") for i in ids]
        raw = stored + self.centroids.offsets(languages)
        centroids = LanguageCentroids.fit(raw, languages, self.dim)
        self._rebuild(ids, raw - centroids.offsets(languages), self.layout.kind, centroids)

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

    def search(self, query: np.ndarray, k: int, allowed: ChunkSubset | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, chunk ids) for one query vector, among `allowed` ids when given."""
        import faiss

        if allowed is not None and not isinstance(allowed, ChunkSubset):
            allowed = ChunkSubset(allowed)
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        selector = None if allowed is None else allowed.selector()
        one_search_thread()
        with self._lock:
            if self.layout.kind == "ivf":
                probes = probes_for(self.layout, len(self), None if allowed is None else len(allowed))
                params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
            else:
                params = None if selector is None else faiss.SearchParameters(sel=selector)
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
                                centroids=self.centroids.to_json(), layout=asdict(self.layout))
        _atomic_write(folder / "chunks.faiss", data)
        _atomic_write(folder / "manifest.json", json.dumps(manifest.__dict__, indent=2).encode())
        return manifest

    @classmethod
    def load(cls, folder: Path, model_id: str, ivf_from: int = 100_000) -> VectorIndex | None:
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
        index = cls(model_id, manifest.dim, ivf_from)
        index._index = faiss.deserialize_index(np.frombuffer(data, np.uint8))
        index.layout = Layout(**(manifest.layout or {}))
        index.centroids = LanguageCentroids.from_json(manifest.centroids or {}, manifest.dim)
        return index


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
