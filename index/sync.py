"""Keep the vector index equal to the store: embed chunks it lacks, drop vectors of deleted chunks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.embedder import Embedder
from index.use_vectors import ChunkUseVectors
from index.vectors import VectorIndex
from kb.store import Store


@dataclass(frozen=True)
class SyncReport:
    embedded: int
    removed: int
    rebuilt: bool = False  # centring refitted or index kind changed (index/layout.py)


def sync_index(store: Store, vectors: VectorIndex, embedder: Embedder, progress=None) -> SyncReport:
    """Repair after a crash between a store commit and an index save; intact vectors are kept."""
    in_store = np.asarray(store.all_chunk_ids(), np.int64)
    in_index = vectors.ids()
    stale = np.setdiff1d(in_index, in_store)
    missing = np.setdiff1d(in_store, in_index)
    vectors.remove(stale)
    embed_chunks(store, vectors, embedder, missing.tolist(), progress)
    rebuilt = settle(store, vectors)
    return SyncReport(int(len(missing)), int(len(stale)), rebuilt)


def settle(store: Store, vectors: VectorIndex) -> bool:
    """After vectors were added or removed: refit the per-language means when the collection's language
    mix has moved, and move to the index kind its size calls for. True when the index was rebuilt."""
    recentred = False
    if vectors.centroids.drifted(store.chunk_language_counts()):
        vectors.recenter(store.chunk_languages())
        recentred = True
    return vectors.fit_layout() or recentred


def embed_chunks(store: Store, vectors: VectorIndex, embedder: Embedder, chunk_ids: list[int], progress=None) -> None:
    if not chunk_ids:
        return
    rows = list(store.chunk_texts_for_embedding(chunk_ids))
    embedded = embedder.encode_passages([text for _, text, _ in rows], progress=progress)
    vectors.add([r[0] for r in rows], embedded, [r[2] for r in rows])


def sync_use_vectors(store: Store, use_vectors: ChunkUseVectors, encoder) -> int:
    """Give every chunk of the store its USE vector (after an upgrade or a crash); returns how many
    were encoded. `encoder` is index.tagger.UseEncoder."""
    in_store = np.asarray(store.all_chunk_ids(), np.int64)
    use_vectors.remove(np.setdiff1d(use_vectors.ids(), in_store))
    missing = np.setdiff1d(in_store, use_vectors.ids()).tolist()
    for start in range(0, len(missing), 1024):
        part = missing[start : start + 1024]
        rows = store.chunks(part)
        ids = [c for c in part if c in rows]
        use_vectors.add(ids, encoder.encode([rows[c]["text"] for c in ids]))
    return len(missing)
