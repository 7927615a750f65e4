"""Search over records: chunk hits from FAISS (filters applied inside), one result per record."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.embedder import Embedder
from index.keyword import KeywordIndex, fold, query_terms
from index.vectors import ChunkSubset, VectorIndex
from kb.filters import Filters
from kb.records import Record
from kb.store import Store

SNIPPET_CHARS = 320
# Added to a record's dense score (a cosine, corrected per language) when it contains the query's rare
# names or acronyms, in proportion to how many of them it contains. Small on purpose: the keyword side
# may lift a record that names what was asked for, not bury the dense ranking (bench/quality.py).
NAME_BONUS = 0.01
# The best BM25 matches of each name that get the bonus. A "rare" name may still be in 3% of a large
# collection's chunks: 3,000 records at 100k, each scored and re-ranked (0.3 s a query) for a bonus
# that only matters near the top.
NAME_BONUS_CHUNKS = 200
# Weight of a record's best USE-multilingual cosine (index/use_vectors.py) added to its e5 score, and how
# many dense candidates are re-ranked with it. bench/quality.py: nDCG@10 on the corpus queries rises
# from 0.76 to about 0.81 for weights 0.2-0.5; 0.25 sits inside that plateau.
USE_WEIGHT = 0.25
RERANK_POOL = 100
SUBSET_CACHE_IDS = 2_000_000
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    """One record in a result list, with the chunk that matched it best.

    `highlights` are [start, end) character offsets of query words inside `snippet`.
    """

    record: Record
    score: float
    snippet: str
    page: int | None = None
    highlights: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class SearchPage:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class PerFilter:
    """Values computed from the filters alone, kept while the store is unchanged: the most recent first,
    up to a budget of summed weights."""

    def __init__(self, store: Store, budget: int, weight: Callable[[Any], int]):
        self.store, self.budget, self.weight = store, budget, weight
        self._version: tuple[int, int] | None = None
        self._values: dict[Filters, Any] = {}  # oldest first
        self._lock = threading.Lock()

    def get(self, filters: Filters, make: Callable[[], Any]) -> Any:
        version = self.store.change_key()
        with self._lock:
            if version != self._version:
                self._values.clear()
                self._version = version
            value = self._values.pop(filters, None)
        if value is None:
            value = make()
        with self._lock:
            if self._version == version:
                self._values[filters] = value
                while len(self._values) > 1 and sum(map(self.weight, self._values.values())) > self.budget:
                    self._values.pop(next(iter(self._values)))
        return value


class Searcher:
    def __init__(self, store: Store, vectors: VectorIndex, embedder: Embedder, use_vectors=None, use_encoder=None):
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.use_vectors = use_vectors  # index.use_vectors.ChunkUseVectors; None: e5 alone
        self.use_encoder = use_encoder
        self.keywords = KeywordIndex(store)
        # What a filter selects does not depend on the query: kept until the store changes.
        self._counts = PerFilter(store, budget=256, weight=lambda counts: 1)
        self._subsets = PerFilter(store, budget=SUBSET_CACHE_IDS, weight=len)  # FAISS's set: ~40 bytes an id

    def counts(self, filters: Filters) -> tuple[int, dict[str, dict[str, int]]]:
        """Total and facets of the filtered set (a few SQL aggregations cost as much as the search itself)."""
        return self._counts.get(filters, lambda: (self.store.count(filters), self.store.facets(filters)))

    def subset(self, filters: Filters) -> ChunkSubset | None:
        """The chunks a filtered search may return (None: all); the SQL takes 4-11 ms at 10k chunks."""
        if filters.is_empty():
            return None
        if filters.exclude_ids:  # excluding the record shown (similar): a filter per record, not worth keeping
            return ChunkSubset(self.store.chunk_ids(filters))
        return self._subsets.get(filters, lambda: ChunkSubset(self.store.chunk_ids(filters)))

    def search(self, query: str, filters: Filters, limit: int = 10, offset: int = 0) -> SearchPage:
        query = " ".join(query.split())
        total, facet_counts = self.counts(filters)
        if not query:
            return SearchPage(query, total, self._browse(filters, limit, offset), facet_counts)
        vector = self.embedder.encode_queries([query])[0]
        wanted = offset + limit
        ranked = self.rank_records(vector, filters, max(wanted, RERANK_POOL), self.name_bonus(query, filters))
        ranked = self.with_second_view(query, ranked, wanted)
        hits = self._hits(ranked[offset : offset + limit], query)
        return SearchPage(query, total, hits, facet_counts)

    def name_bonus(self, query: str, filters: Filters) -> dict[str, float]:
        """Record id -> bonus for containing the query's rare names (see NAME_BONUS)."""
        terms = self.keywords.name_terms(query)
        bonus: dict[str, float] = {}
        for term in terms:
            hits = self.store.keyword_chunks([term], filters, limit=NAME_BONUS_CHUNKS)
            for record_id in set(self.store.records_of_chunks(c for c, _ in hits).values()):
                bonus[record_id] = bonus.get(record_id, 0.0) + NAME_BONUS / len(terms)
        return bonus

    def rank_records(self, vector: np.ndarray, filters: Filters, wanted: int,
                     bonus: dict[str, float] | None = None) -> list[tuple[str, float, int]]:
        """(record id, score, best chunk id), best first: at least `wanted` records when that many match.

        Chunks are searched, records are returned: k grows until enough distinct records are found.
        Records with a bonus are scored even when the dense search alone would not reach them.
        """
        allowed = self.subset(filters)
        available = len(self.vectors) if allowed is None else len(allowed)
        k = min(available, max(64, wanted * 8))
        while True:
            scores, ids = self.vectors.search(vector, k, allowed)
            best = self._best_per_record(scores, ids)
            if len(best) >= wanted or k >= available:
                break
            k = min(available, k * 4)
        if bonus:
            best = self._with_bonus(vector, best, bonus)
        return best

    def with_second_view(self, query: str, ranked: list[tuple[str, float, int]], wanted: int) -> list[tuple[str, float, int]]:
        """Re-rank the best dense candidates with USE_WEIGHT x the best USE cosine among each record's chunks;
        the rest are dropped. The pool has a fixed size (RERANK_POOL) for the first pages, so paging stays
        stable."""
        if self.use_vectors is None or self.use_encoder is None or not ranked or not len(self.use_vectors):
            return ranked
        ranked = ranked[: max(RERANK_POOL, wanted)]
        query_use = self.use_encoder.encode_query(query)
        chunk_ids = self.store.chunk_ids_of_records([rid for rid, _, _ in ranked])
        ids, vectors = self.use_vectors.get([c for c, _ in chunk_ids])
        record_of = dict(chunk_ids)
        best: dict[str, float] = {}
        for chunk_id, score in zip(ids.tolist(), (vectors @ query_use).tolist(), strict=True):
            rid = record_of[chunk_id]
            best[rid] = max(best.get(rid, -1.0), score)
        fused = [(rid, score + USE_WEIGHT * best.get(rid, 0.0), chunk) for rid, score, chunk in ranked]
        return sorted(fused, key=lambda r: -r[1])

    def _with_bonus(self, vector: np.ndarray, best: list[tuple[str, float, int]], bonus: dict[str, float]) -> list[tuple[str, float, int]]:
        scored = {rid: (score, chunk) for rid, score, chunk in best}
        missing = [rid for rid in bonus if rid not in scored]
        chunk_ids = [c for rid in missing for c in self.store.record_chunk_ids(rid)]
        if chunk_ids:
            scores, ids = self.vectors.search(vector, len(chunk_ids), np.asarray(chunk_ids, np.int64))
            for rid, score, chunk in self._best_per_record(scores, ids):
                scored[rid] = (score, chunk)
        ranked = [(rid, score + bonus.get(rid, 0.0), chunk) for rid, (score, chunk) in scored.items()]
        return sorted(ranked, key=lambda r: -r[1])

    def _best_per_record(self, scores: np.ndarray, ids: np.ndarray) -> list[tuple[str, float, int]]:
        record_of = self.store.records_of_chunks(int(i) for i in ids)
        best: dict[str, tuple[float, int]] = {}
        for score, chunk_id in zip(scores.tolist(), ids.tolist(), strict=True):
            record_id = record_of.get(chunk_id)
            if record_id is None:  # a vector whose chunk is gone: ignored until the next sync
                continue
            if record_id not in best:  # FAISS returns scores in descending order
                best[record_id] = (score, chunk_id)
        return [(rid, s, c) for rid, (s, c) in best.items()]

    def _hits(self, ranked: list[tuple[str, float, int]], query: str) -> list[Hit]:
        records = self.store.records([rid for rid, _, _ in ranked])
        chunks = self.store.chunks(c for _, _, c in ranked)
        hits = []
        for rid, score, chunk_id in ranked:
            chunk = chunks.get(chunk_id)
            if rid in records and chunk is not None:
                snippet = make_snippet(chunk["text"], query)
                hits.append(Hit(records[rid], round(float(score), 4), snippet, chunk["page"], highlight_spans(snippet, query)))
        return hits

    def _browse(self, filters: Filters, limit: int, offset: int) -> list[Hit]:
        ids = self.store.record_ids(filters)[offset : offset + limit]
        records = self.store.records(ids)
        return [Hit(records[i], 0.0, make_snippet(records[i].text(), "")) for i in ids if i in records]

    def related(self, text: str, filters: Filters, limit: int = 10, offset: int = 0) -> SearchPage:
        """Records related to a free text, e.g. a course description: the text is cut into chunks,
        each encoded as a query, and their mean vector is searched (long texts keep all their parts)."""
        words = text.split()
        parts = [" ".join(words[i : i + 160]) for i in range(0, min(len(words), 32 * 160), 160)] or [text]
        vector = self.embedder.encode_queries(parts).mean(axis=0)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        total, facet_counts = self.counts(filters)
        ranked = self.rank_records(vector, filters, offset + limit)
        probe = " ".join(text.split()[:60])  # the snippet is chosen by the text's opening words
        return SearchPage(" ".join(text.split())[:200], total, self._hits(ranked[offset : offset + limit], probe), facet_counts)

    def similar(self, record_id: str, filters: Filters, limit: int = 10, same_city: bool = False) -> list[Hit]:
        """Comparable records: nearest to the record's mean chunk vector; other cities first."""
        source = self.store.get(record_id).record
        chunk_ids = self.store.record_chunk_ids(record_id)
        if not chunk_ids:
            return []
        languages = self.store.chunk_languages(chunk_ids)
        vector = self.vectors.raw_vectors(chunk_ids, [languages[c] for c in chunk_ids]).mean(axis=0)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        excluded = Filters(**{**filters.__dict__, "exclude_ids": filters.exclude_ids | {record_id}})
        ranked = self.rank_records(vector, excluded, limit * 3 if source.city else limit)
        records = self.store.records([r for r, _, _ in ranked])
        city = (source.city or "").casefold()
        other = [r for r in ranked if (records[r[0]].city or "").casefold() != city or not city]
        same = [r for r in ranked if r not in other] if same_city else []
        return self._hits((other + same)[:limit], source.title)


def highlight_spans(snippet: str, query: str) -> list[tuple[int, int]]:
    """Offsets of snippet words that match a query word: same word without accents or case, or the same
    stem for longer words ("audits" for "audit", "mujeres" for "mujer")."""
    terms = query_terms(query)
    if not terms:
        return []
    spans = []
    for match in WORD.finditer(snippet):
        word = fold(match.group(0))
        for term in terms:
            stem = min(len(term), max(5, len(term) - 2))
            if word == term or (len(term) >= 5 and len(word) >= stem and word[:stem] == term[:stem]):
                spans.append((match.start(), match.end()))
                break
    return spans


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
