"""Which FAISS index holds the chunk vectors: exact for small collections, IVF for large ones.

Exact inner-product search costs time in proportion to the collection: about 14 ms per query at
100k chunks and 140 ms at 1M on two cores (bench/vectors_scale.py). From `ivf_from` vectors on, the
vectors move into an inverted-file index (IVF, flat codes, so no vector loses precision) with about
4·sqrt(n) lists. The number of lists searched (nprobe) is raised until recall@10 against exact search,
measured on sample queries made from the collection's own vectors, reaches TARGET_RECALL; the figure is kept in
the index manifest. Filtered searches probe more lists as the filter gets narrower, so a filter that
keeps 1% of the collection still finds its top results.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

TARGET_RECALL = 0.97  # measured on sample queries; leaves a margin above the promised 0.95
RECALL_QUERIES = 300
MIN_NPROBE = 16


@dataclass(frozen=True)
class Layout:
    """How the index is built, as written to the manifest."""

    kind: str = "flat"  # "flat" (exact) or "ivf"
    nlist: int = 0
    nprobe: int = 0
    trained_on: int = 0  # vector count when the IVF lists were trained
    recall_at_10: float | None = None  # measured against exact search when the IVF was built


def needs_rebuild(layout: Layout, count: int, ivf_from: int) -> str | None:
    """The kind to rebuild as, or None. Exact becomes IVF at `ivf_from` vectors; IVF goes back to exact
    only below 80% of it (so a collection at the threshold does not flip on every delete), and its
    lists are retrained once the collection has doubled since they were trained."""
    if layout.kind == "flat":
        return "ivf" if 0 < ivf_from <= count else None
    if ivf_from <= 0 or count < ivf_from * 0.8:
        return "flat"
    return "ivf" if count > 2 * layout.trained_on else None


def build_flat(dim: int, ids: np.ndarray, stored: np.ndarray):
    import faiss

    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(stored, np.float32), ids)
    return index, Layout()


def one_search_thread() -> None:
    """FAISS answers one query at a time here, which one thread does as fast as several (a flat search of
    10k vectors: 0.9 ms against 1.7 ms). Its OpenMP threads also keep spinning after each search, beside
    torch's own pool encoding the next query: on 2 cores that pushed the e5 query encode's p95 from 26 to
    39 ms. Process-wide, set once; IVF training (below) uses every core while it runs."""
    import faiss

    global _search_threads_set
    if not _search_threads_set:
        faiss.omp_set_num_threads(1)
        _search_threads_set = True


_search_threads_set = False


@contextmanager
def all_cores():
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        if _search_threads_set:
            faiss.omp_set_num_threads(1)


def build_ivf(dim: int, ids: np.ndarray, stored: np.ndarray, seed: int = 1234):
    """Train lists on the (centred) vectors, add them all, then pick nprobe by measured recall."""
    with all_cores():
        return _build_ivf(dim, ids, stored, seed)


def _build_ivf(dim: int, ids: np.ndarray, stored: np.ndarray, seed: int):
    import faiss

    stored = np.ascontiguousarray(stored, np.float32)
    # about 4·sqrt(n) lists, but never fewer than 39 training vectors per list (FAISS's minimum)
    nlist = int(max(1, min(65536, round(4 * math.sqrt(len(ids))), len(ids) // 39)))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.train(stored)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by chunk id
    index.add_with_ids(stored, ids)
    nprobe, recall = calibrate_nprobe(index, ids, stored, seed)
    return index, Layout("ivf", nlist, nprobe, len(ids), recall)


def calibrate_nprobe(index, ids: np.ndarray, stored: np.ndarray, seed: int) -> tuple[int, float]:
    """Smallest power-of-two nprobe whose recall@10 on sample queries reaches TARGET_RECALL.

    The sample queries are means of three random vectors of the collection. A collection vector used
    as its own query overstates recall (it sits in its own list); real questions fall between
    passages, and on the seed corpus these blends track the recall of real query vectors within 0.03
    (tests/index/test_vectors.py checks real queries against the 0.95 promise)."""
    import faiss

    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(stored), size=(min(RECALL_QUERIES, len(stored)), 3))
    sample = np.ascontiguousarray(stored[picks].mean(axis=1), np.float32)
    exact = faiss.IndexFlatIP(stored.shape[1])
    exact.add(stored)
    _, rows = exact.search(sample, 10)
    truth = ids[rows]
    nprobe = MIN_NPROBE
    while True:
        probes = min(nprobe, index.nlist)
        _, found = index.search(sample, 10, params=faiss.SearchParametersIVF(nprobe=probes))
        recall = recall_at_10(truth, found)
        if recall >= TARGET_RECALL or probes >= index.nlist:
            return probes, round(recall, 4)
        nprobe *= 2


def recall_at_10(truth: np.ndarray, found: np.ndarray) -> float:
    """Mean share of each exact top 10 that the approximate search also returned."""
    return float(np.mean([len(set(t.tolist()) & set(f.tolist())) / len(t) for t, f in zip(truth, found, strict=True)]))


def all_ids(index) -> np.ndarray:
    """Every chunk id held by an IVF index, list by list."""
    import faiss

    invlists = index.invlists
    parts = [faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
             for i in range(index.nlist) if invlists.list_size(i)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def all_vectors(index) -> tuple[np.ndarray, np.ndarray]:
    """(ids, stored vectors) of an IVF index with flat codes, read straight from its lists."""
    import faiss

    invlists, dim = index.invlists, index.d
    ids, vectors = [], []
    for i in range(index.nlist):
        size = invlists.list_size(i)
        if size:
            ids.append(faiss.rev_swig_ptr(invlists.get_ids(i), size).copy())
            codes = faiss.rev_swig_ptr(invlists.get_codes(i), size * invlists.code_size).copy()
            vectors.append(codes.view(np.float32).reshape(size, dim))
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    return np.concatenate(ids).astype(np.int64), np.vstack(vectors)


def probes_for(layout: Layout, count: int, allowed: int | None) -> int:
    """Lists to search: the calibrated nprobe, raised in proportion when a filter keeps a small share."""
    if allowed is None or allowed >= count:
        return layout.nprobe
    share = max(allowed, 1) / max(count, 1)
    return int(min(layout.nlist, math.ceil(layout.nprobe / share)))
