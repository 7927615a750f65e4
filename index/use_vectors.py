"""A second view of every chunk: its USE-multilingual vector, used to re-rank search candidates.

multilingual-e5 finds the candidates (FAISS); adding USE's cosine lifts the records both encoders agree
on. USE was trained to align translations, so it is the more language-neutral of the two: on the
judged corpus queries the fusion raises nDCG@10 from 0.763 to about 0.81, most of it on questions
whose answers are in another language (bench/quality.py). The tagger already computes these vectors
at ingest, so keeping them costs memory (float16, 1 KB per chunk) and no extra encoding.

Saved next to the FAISS index as one .npy pair (ids, vectors), written atomically; missing or damaged,
it is rebuilt from the store's chunk texts on open (index/sync.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from pathlib import Path

import numpy as np

DIM = 512
FILE = "use_vectors.npz"


class ChunkUseVectors:
    def __init__(self) -> None:
        self._ids = np.zeros(0, np.int64)  # sorted
        self._vectors = np.zeros((0, DIM), np.float16)
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> np.ndarray:
        return self._ids.copy()

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, np.int64)
        with self._lock:
            keep = ~np.isin(self._ids, ids)
            merged_ids = np.concatenate([self._ids[keep], ids])
            merged = np.vstack([self._vectors[keep], np.asarray(vectors, np.float16)])
            order = np.argsort(merged_ids, kind="stable")
            self._ids, self._vectors = merged_ids[order], merged[order]

    def remove(self, ids: list[int] | np.ndarray) -> None:
        if len(ids) == 0:
            return
        with self._lock:
            keep = ~np.isin(self._ids, np.asarray(ids, np.int64))
            self._ids, self._vectors = self._ids[keep], self._vectors[keep]

    def get(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(the ids that have a vector, their vectors as float32)."""
        wanted = np.asarray(ids, np.int64)
        with self._lock:
            rows = np.searchsorted(self._ids, wanted)
            rows = np.minimum(rows, max(len(self._ids) - 1, 0))
            found = (self._ids[rows] == wanted) if len(self._ids) else np.zeros(len(wanted), bool)
            return wanted[found], self._vectors[rows[found]].astype(np.float32)

    # --- persistence ---------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        from index.vectors import _atomic_write

        with self._lock:
            buffer = io.BytesIO()
            np.savez(buffer, ids=self._ids, vectors=self._vectors)
        data = buffer.getvalue()
        _atomic_write(folder / FILE, data)
        _atomic_write(folder / (FILE + ".json"), json.dumps({"sha256": hashlib.sha256(data).hexdigest()}).encode())

    @classmethod
    def load(cls, folder: Path) -> ChunkUseVectors:
        """The saved vectors, or an empty set when absent or damaged (sync re-encodes what is missing)."""
        out = cls()
        path, check = folder / FILE, folder / (FILE + ".json")
        if not (path.exists() and check.exists()):
            return out
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != json.loads(check.read_text()).get("sha256"):
            return out
        with np.load(io.BytesIO(data), allow_pickle=False) as saved:
            ids, vectors = saved["ids"].astype(np.int64), saved["vectors"].astype(np.float16)
        if vectors.shape == (len(ids), DIM):
            out._ids, out._vectors = ids, vectors
        return out
