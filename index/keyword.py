"""Keyword side of the search: query terms for the store's FTS5 index, with typo correction.

Names, places and acronyms ("BRT", "Medellín", "Vision Zero") are where embeddings are weakest and
exact words strongest; the dense side stays the base of the ranking (see `search.py`).
"""

from __future__ import annotations

import difflib
import re
import threading
import time
import unicodedata

from kb.filters import Filters
from kb.store import Store

# Function words of the collection's main languages: matching them says nothing about relevance.
STOPWORDS = frozenset(
    """a an and are as at be by for from has have how in into is it its of on or that the their this to was
    were what which who with why do does did can could should would about after before between our we you
    le la les un une des du de d l et en au aux pour par sur dans avec sans est sont qui que quoi quel quelle
    quels quelles comment ou ce ces cette leur leurs nous vous il elle ils elles ont a plus ne pas se sa son
    el los las una unos unas del al y o en con sin por para es son que como cual cuales donde quien quienes
    ha han lo su sus se mas muy e um uma uns umas do da dos das no na nos nas com sem pelo pela por para
    os as ao aos foi sao como qual quais onde quem els les amb per sense dels i der die das ein eine und oder
    mit fur von zu im ist sind wie il lo gli di da nel nella con per che come dove chi e sono""".split()
)
WORD = re.compile(r"\w+", re.UNICODE)
VOCABULARY_REFRESH_S = 10.0


def fold(text: str) -> str:
    """Lower case without diacritics, as the FTS5 tokenizer (unicode61 remove_diacritics 2) sees text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_terms(query: str) -> list[str]:
    """Distinct folded words of a query, function words and single letters left out."""
    terms = [w for w in WORD.findall(fold(query)) if len(w) > 1 and w not in STOPWORDS]
    return list(dict.fromkeys(terms))


class KeywordIndex:
    """Typo-tolerant term lookup over the store's keyword index."""

    def __init__(self, store: Store, refresh_s: float = VOCABULARY_REFRESH_S):
        self.store = store
        self.refresh_s = refresh_s
        self._vocabulary: dict[str, int] = {}
        self._by_initial: dict[str, list[str]] = {}
        self._chunk_count = 0
        self._vocabulary_key: tuple[int, int] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _vocab(self) -> dict[str, int]:
        """The indexed words and their chunk counts. After a write it is read again, but at most every
        VOCABULARY_REFRESH_S: at 100k chunks the read takes ~0.5 s, which every search paid during an
        ingest. Meanwhile only typo correction and the name bonus miss the newest words."""
        key = self.store.change_key()
        with self._lock:
            due = self._vocabulary_key is None or time.monotonic() - self._loaded_at >= self.refresh_s
            if key != self._vocabulary_key and due:
                self._loaded_at = time.monotonic()
                self._vocabulary = self.store.vocabulary()
                self._by_initial = {}
                for term in self._vocabulary:
                    self._by_initial.setdefault(term[:1], []).append(term)
                self._chunk_count = self.store.stats_chunks_count()
                self._vocabulary_key = key
            return self._vocabulary

    def corrected_terms(self, query: str) -> list[str]:
        """Query terms, plus for each unknown word of 4+ letters the closest indexed word ("medelin" -> also
        "medellin"). The original stays: terms are OR-ed, so a correction can add matches, never remove them."""
        vocabulary = self._vocab()
        terms = []
        for term in query_terms(query):
            if term in vocabulary or len(term) < 4 or term.isdigit():
                terms.append(term)
                continue
            terms.append(term)
            close = self._close(term, 3)
            if close:
                terms.append(max(close, key=lambda c: (difflib.SequenceMatcher(None, term, c).ratio(), vocabulary[c])))
        return list(dict.fromkeys(terms))

    def search(self, query: str, filters: Filters, limit: int = 200) -> list[tuple[int, float]]:
        return self.store.keyword_chunks(self.corrected_terms(query), filters, limit)

    def name_terms(self, query: str, max_share: float = 0.03) -> list[str]:
        """Rare name-like words of the query: acronyms (BRT), words with digits (C40), capitalised words
        (Medellín, Vision Zero) found in at most `max_share` of the chunks. These keep their meaning in
        every language, so matching them can help a cross-language search instead of pulling it toward
        documents in the query's language."""
        vocabulary = self._vocab()
        limit = max(5, int(max_share * self._chunk_count))  # small collections: any name counts
        found = []
        for match in WORD.finditer(query):
            word = match.group(0)
            acronym = len(word) >= 2 and word.isupper()
            capitalised = word[:1].isupper() and len(word) >= 3
            if acronym or capitalised or any(ch.isdigit() for ch in word):
                term = self._known(fold(word), vocabulary)
                if term and vocabulary[term] <= limit and term not in STOPWORDS:
                    found.append(term)
        return list(dict.fromkeys(found))

    def _known(self, term: str, vocabulary: dict[str, int]) -> str | None:
        """The term itself when indexed, else its closest indexed spelling ('Medelin' -> 'medellin')."""
        if term in vocabulary:
            return term
        if len(term) < 4 or term.isdigit():
            return None
        close = self._close(term, 1)
        return close[0] if close else None

    def _close(self, term: str, n: int) -> list[str]:
        """Indexed words within a similarity ratio of 0.8, among those with the same first letter: a typo
        rarely hits the first letter, and comparing with the whole vocabulary of a 100k-chunk collection
        took 150 ms a word."""
        with self._lock:
            candidates = self._by_initial.get(term[:1], [])
        return difflib.get_close_matches(term, candidates, n=n, cutoff=0.8)
