"""Per-language centring of document vectors: the correction for multilingual-e5's language bias.

multilingual-e5 scores a document higher when it is written in the query's language, whatever it
says: every document carries a component shared by its language. Subtracting from each document the
mean vector of its language (score = q · (d - mean[lang(d)])) removes that component, so a Spanish
question ranks an English practice by what it says. For a one-language collection the subtraction is
the same for every document and the ranking is unchanged. See Libovický et al., "On the Language
Neutrality of Pre-trained Multilingual Representations" (2020), and bench/quality.py for figures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

SHRINK = 10  # pseudo-count pulling a rare language's mean toward the global mean
UNKNOWN = "und"


@dataclass
class LanguageCentroids:
    """Frozen language means, and the chunk counts they were computed from."""

    dim: int
    means: dict[str, np.ndarray] = field(default_factory=dict)
    global_mean: np.ndarray | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, vectors: np.ndarray, languages: list[str], dim: int) -> LanguageCentroids:
        if len(vectors) == 0:
            return cls(dim)
        global_mean = vectors.mean(axis=0)
        langs = np.asarray(languages)
        counts = Counter(languages)
        means = {}
        for lang, n in counts.items():
            total = vectors[langs == lang].sum(axis=0)
            means[lang] = ((total + SHRINK * global_mean) / (n + SHRINK)).astype(np.float32)
        return cls(dim, means, global_mean.astype(np.float32), dict(counts))

    def offset(self, language: str) -> np.ndarray:
        """What is subtracted from a document vector of `language` (zero before any fit)."""
        if language in self.means:
            return self.means[language]
        return self.global_mean if self.global_mean is not None else np.zeros(self.dim, np.float32)

    def offsets(self, languages: list[str]) -> np.ndarray:
        return np.stack([self.offset(lang) for lang in languages]) if languages else np.zeros((0, self.dim), np.float32)

    def drifted(self, current: dict[str, int]) -> bool:
        """True when the collection's language mix moved enough that the means should be refitted."""
        for lang, n in current.items():
            before = self.counts.get(lang, 0)
            if abs(n - before) > max(10, 0.2 * before):
                return True
        return False

    def to_json(self) -> dict:
        return {
            "counts": self.counts,
            "global_mean": None if self.global_mean is None else self.global_mean.tolist(),
            "means": {lang: m.tolist() for lang, m in self.means.items()},
        }

    @classmethod
    def from_json(cls, data: dict, dim: int) -> LanguageCentroids:
        mean = data.get("global_mean")
        return cls(
            dim,
            {lang: np.asarray(m, np.float32) for lang, m in data.get("means", {}).items()},
            None if mean is None else np.asarray(mean, np.float32),
            {k: int(v) for k, v in data.get("counts", {}).items()},
        )
