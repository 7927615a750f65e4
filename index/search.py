"""Search over records: chunk hits from FAISS (filters applied inside), one result per record."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from index.embedder import Embedder
from index.vectors import VectorIndex
from kb.filters import Filters
from kb.records import Record
from kb.store import Store

SNIPPET_CHARS = 320
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    """One record in a result list, with the chunk that matched it best."""

    record: Record
    score: float
    snippet: str
    page: int | None = None


@dataclass(frozen=True)
class SearchPage:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class Searcher:
    def __init__(self, store: Store, vectors: VectorIndex, embedder: Embedder):
        self.store = store
        self.vectors = vectors
        self.embedder = embedder

    def search(self, query: str, filters: Filters, limit: int = 10, offset: int = 0, facets: bool = True) -> SearchPage:
        query = " ".join(query.split())
        total = self.store.count(filters)
        facet_counts = self.store.facets(filters) if facets else {}
        if not query:
            return SearchPage(query, total, self._browse(filters, limit, offset), facet_counts)
        vector = self.embedder.encode_queries([query])[0]
        ranked = self.rank_records(vector, filters, offset + limit)
        hits = self._hits(ranked[offset : offset + limit], query)
        return SearchPage(query, total, hits, facet_counts)

    def rank_records(self, vector: np.ndarray, filters: Filters, wanted: int) -> list[tuple[str, float, int]]:
        """(record id, score, best chunk id), best first: at least `wanted` records when that many match.

        Chunks are searched, records are returned: k grows until enough distinct records are found.
        """
        allowed = None if filters.is_empty() else np.asarray(self.store.chunk_ids(filters), np.int64)
        available = len(self.vectors) if allowed is None else len(allowed)
        k = min(available, max(64, wanted * 8))
        while True:
            scores, ids = self.vectors.search(vector, k, allowed)
            best = self._best_per_record(scores, ids)
            if len(best) >= wanted or k >= available:
                return best
            k = min(available, k * 4)

    def _best_per_record(self, scores: np.ndarray, ids: np.ndarray) -> list[tuple[str, float, int]]:
        rows = self.store.chunks(int(i) for i in ids)
        best: dict[str, tuple[float, int]] = {}
        for score, chunk_id in zip(scores.tolist(), ids.tolist(), strict=True):
            row = rows.get(chunk_id)
            if row is None:  # a vector whose chunk is gone: ignored until the next sync
                continue
            if row["record_id"] not in best:  # FAISS returns scores in descending order
                best[row["record_id"]] = (score, chunk_id)
        return [(rid, s, c) for rid, (s, c) in best.items()]

    def _hits(self, ranked: list[tuple[str, float, int]], query: str) -> list[Hit]:
        records = self.store.records([rid for rid, _, _ in ranked])
        chunks = self.store.chunks(c for _, _, c in ranked)
        hits = []
        for rid, score, chunk_id in ranked:
            chunk = chunks.get(chunk_id)
            if rid in records and chunk is not None:
                hits.append(Hit(records[rid], round(float(score), 4), make_snippet(chunk["text"], query), chunk["page"]))
        return hits

    def _browse(self, filters: Filters, limit: int, offset: int) -> list[Hit]:
        ids = self.store.record_ids(filters)[offset : offset + limit]
        records = self.store.records(ids)
        return [Hit(records[i], 0.0, make_snippet(records[i].text(), "")) for i in ids if i in records]

    def similar(self, record_id: str, filters: Filters, limit: int = 10, same_city: bool = False) -> list[Hit]:
        """Comparable records: nearest to the record's mean chunk vector; other cities first."""
        source = self.store.get(record_id).record
        chunk_ids = self.store.record_chunk_ids(record_id)
        if not chunk_ids:
            return []
        vector = self.vectors.vectors(chunk_ids).mean(axis=0)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        excluded = Filters(**{**filters.__dict__, "exclude_ids": filters.exclude_ids | {record_id}})
        ranked = self.rank_records(vector, excluded, limit * 3 if source.city else limit)
        records = self.store.records([r for r, _, _ in ranked])
        city = (source.city or "").casefold()
        other = [r for r in ranked if (records[r[0]].city or "").casefold() != city or not city]
        same = [r for r in ranked if r not in other] if same_city else []
        return self._hits((other + same)[:limit], source.title)


def make_snippet(text: str, query: str, size: int = SNIPPET_CHARS) -> str:
    """The stretch of `text` (about `size` characters) with the most query words, cut at word ends."""
    text = " ".join(text.split())
    if len(text) <= size:
        return text
    terms = {w.casefold() for w in WORD.findall(query) if len(w) > 2}
    best_start, best_score = 0, -1
    if terms:
        starts = [0] + [m.end() + 1 for m in re.finditer(r"[.!?;]\s", text)]
        for start in starts:
            window = text[start : start + size].casefold()
            score = sum(window.count(t) for t in terms)
            if score > best_score:
                best_start, best_score = start, score
    cut = text[best_start : best_start + size]
    if best_start + size < len(text):
        cut = cut[: cut.rfind(" ")] + " …" if " " in cut else cut + "…"
    return ("… " if best_start > 0 else "") + cut
