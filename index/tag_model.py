"""The tagger's fitted parameters: SDG and gender-perspective scores from passage embeddings.

Three signals, each cheap once a text is embedded:
- a multinomial logistic regression over the embedding, trained on the hand-written, multilingual
  examples in `index/data/sdg_examples/` plus the official goal statements and targets;
- the mean similarity to each goal's official targets (`index/data/sdg_goals.json`), standardised
  per goal so that broad goals do not win every text;
- for the gender perspective, the similarity to short descriptions of gender-equality themes and
  the rate of gender keywords (`index/data/gender.json`), in several languages.
A small logistic calibration, fitted on out-of-fold predictions over the same examples, turns them
into one probability per (text, SDG) and one for the gender perspective. No benchmark text is used.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
MODEL_FORMAT = 1
GOALS = range(1, 18)


CALIBRATION = DATA / "sdg_calibration.json"


def data_digest() -> str:
    """Changes whenever the tagger's reference data or its fitting code changes."""
    digest = hashlib.sha256(f"format {MODEL_FORMAT}".encode())
    for path in sorted(p for p in DATA.rglob("*.json*") if p != CALIBRATION) + [Path(__file__)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_examples() -> tuple[list[str], np.ndarray]:
    """Labelled texts (label 0 = about no goal) and the official goal statements and targets."""
    texts: list[str] = []
    labels: list[int] = []
    for path in sorted((DATA / "sdg_examples").glob("sdg_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                texts.append(item["text"])
                labels.append(int(item["sdg"]))
    for goal, entry in goal_data().items():
        for text in list(entry["goal"].values()) + [t.split(" ", 1)[1] for t in entry["targets"]]:
            texts.append(text)
            labels.append(goal)
    return texts, np.asarray(labels)


def goal_data() -> dict[int, dict]:
    return {int(k): v for k, v in json.loads((DATA / "sdg_goals.json").read_text(encoding="utf-8")).items()}


def gender_data() -> dict:
    return json.loads((DATA / "gender.json").read_text(encoding="utf-8"))


def target_texts() -> tuple[list[str], np.ndarray]:
    """Reference texts per goal for the similarity signal: targets and the goal in en, fr, es."""
    texts, owners = [], []
    for goal, entry in goal_data().items():
        for text in [t.split(" ", 1)[1] for t in entry["targets"]] + list(entry["goal"].values()):
            texts.append(text)
            owners.append(goal)
    return texts, np.asarray(owners)


class Keywords:
    """Counts the terms of one theme in every supported language (whole words, case-insensitive)."""

    def __init__(self, keywords: dict[str, list[str]]):
        terms = sorted({t.lower() for words in keywords.values() for t in words}, key=len, reverse=True)
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)

    def rate(self, text: str) -> float:
        """Keyword hits per 100 words, log-scaled so one mention counts and ten do not count ten times."""
        words = max(len(text.split()), 20)
        return float(np.log1p(100 * len(self._pattern.findall(text)) / words))


GenderKeywords = Keywords


class GoalKeywords:
    """Keyword rates of the 17 goals (`keywords` in sdg_goals.json)."""

    def __init__(self):
        self._goals = [Keywords(goal_data()[g]["keywords"]) for g in GOALS]

    def rates(self, texts: list[str]) -> np.ndarray:
        return np.asarray([[k.rate(t) for k in self._goals] for t in texts], np.float32).reshape(len(texts), 17)


@dataclass
class TagModel:
    """Arrays only, saved as .npz without pickle."""

    lr_w: np.ndarray  # (classes, dim) multinomial logistic regression over the embedding
    lr_b: np.ndarray  # (classes,)
    lr_classes: np.ndarray  # class labels, 0 = no goal
    ref: np.ndarray  # (refs, dim) target and goal texts, encoded as queries
    ref_owner: np.ndarray  # (refs,) goal of each reference
    sim_mean: np.ndarray  # (34,) per-goal mean and best similarity, averaged over the examples
    sim_std: np.ndarray  # (34,)
    sdg_cal: np.ndarray  # weights of the (text, goal) calibration, last = bias
    sdg_goal_bias: np.ndarray  # (17,) per-goal offsets (zero unless a benchmark calibration is applied)
    gender_ref: np.ndarray  # (m, dim) gender-theme descriptions, encoded as queries
    gender_cal: np.ndarray  # weights of the gender calibration, last = bias

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **self.__dict__)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TagModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    # --- signals ------------------------------------------------------------------------------------
    def goal_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 17) probability of each goal from the logistic regression (class 0 = no goal dropped)."""
        p = _sigmoid(vectors @ self.lr_w.T + self.lr_b)
        return np.stack([p[:, list(self.lr_classes).index(g)] for g in GOALS], 1)

    def goal_similarity(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 34) standardised mean and best similarity to each goal's targets."""
        sims = vectors @ self.ref.T
        mean = np.stack([sims[:, self.ref_owner == g].mean(1) for g in GOALS], 1)
        best = np.stack([sims[:, self.ref_owner == g].max(1) for g in GOALS], 1)
        return (np.concatenate([mean, best], 1) - self.sim_mean) / self.sim_std

    def sdg_features(self, vectors: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """(n, 17, f) features of each (text, goal) pair; `rates` are the goals' keyword rates (n, 17)."""
        p = self.goal_probabilities(vectors)
        z, zmax = np.split(self.goal_similarity(vectors), 2, axis=1)
        rank_p = (p[:, None, :] > p[:, :, None]).sum(2)
        rank_z = (z[:, None, :] > z[:, :, None]).sum(2)
        top_rate = (rates >= rates.max(1, keepdims=True)) & (rates > 0)
        return np.stack([np.log(p + 1e-6), z, z - z.max(1, keepdims=True), rank_p == 0, rank_p <= 1, rank_z == 0,
                         rates, top_rate, zmax, zmax - zmax.max(1, keepdims=True)], 2).astype(np.float32)

    def sdg_scores(self, vectors: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """(n, 17) calibrated probability that each text is about each goal."""
        return _sigmoid(self.sdg_features(vectors, rates) @ self.sdg_cal[:-1] + self.sdg_cal[-1] + self.sdg_goal_bias)

    def gender_features(self, vectors: np.ndarray, keyword_rates: np.ndarray) -> np.ndarray:
        sims = np.sort(vectors @ self.gender_ref.T, 1)[:, -3:].mean(1)
        p5 = self.goal_probabilities(vectors)[:, 4]
        return np.stack([sims, np.log(p5 + 1e-6), keyword_rates], 1).astype(np.float32)

    def gender_scores(self, vectors: np.ndarray, keyword_rates: np.ndarray) -> np.ndarray:
        return _sigmoid(self.gender_features(vectors, keyword_rates) @ self.gender_cal[:-1] + self.gender_cal[-1])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fit_tag_model(embedder) -> TagModel:
    """Fit every parameter from the shipped reference data (about half a minute on two cores)."""
    from sklearn.model_selection import StratifiedKFold

    texts, labels = load_examples()
    x = embedder.encode_passages(texts)
    ref_texts, ref_owner = target_texts()
    gender = gender_data()
    model = TagModel(
        lr_w=np.zeros(0), lr_b=np.zeros(0), lr_classes=np.zeros(0),
        ref=embedder.encode_queries(ref_texts), ref_owner=ref_owner, sim_mean=np.zeros(34), sim_std=np.ones(34),
        sdg_cal=np.zeros(0), sdg_goal_bias=np.zeros(17), gender_ref=embedder.encode_queries([t for ts in gender["descriptions"].values() for t in ts]),
        gender_cal=np.zeros(0),
    )
    raw = model.goal_similarity(x)
    model.sim_mean, model.sim_std = raw.mean(0), raw.std(0) + 1e-6
    # Out-of-fold probabilities, so the calibration sees the regression as it behaves on unseen text.
    oof = np.zeros((len(texts), len(np.unique(labels))))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, labels):
        w, b, _ = _one_vs_rest(x[train], labels[train])
        oof[test] = _sigmoid(x[test] @ w.T + b)
    model.lr_w, model.lr_b, model.lr_classes = _one_vs_rest(x, labels)
    keywords = GenderKeywords(gender["keywords"])
    rates = np.asarray([keywords.rate(t) for t in texts])
    with_oof = _OofModel(model, oof)
    goal_rates = GoalKeywords().rates(texts)
    model.sdg_cal = _fit_calibration(with_oof.sdg_features(x, goal_rates).reshape(-1, SDG_FEATURES),
                                     (labels[:, None] == np.arange(1, 18)[None, :]).reshape(-1))
    model.gender_cal = _fit_calibration(with_oof.gender_features(x, rates), labels == 5)
    return model


LR_C = 10.0
SDG_FEATURES = 10


class _OofModel(TagModel):
    """The model with the regression's probabilities replaced by out-of-fold ones (for calibration)."""

    def __init__(self, model: TagModel, oof: np.ndarray):
        self.__dict__.update(model.__dict__)
        self._oof = oof

    def goal_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return np.stack([self._oof[:, list(self.lr_classes).index(g)] for g in GOALS], 1)


def _one_vs_rest(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One binary regression per class: a text may be about several goals, so goals do not compete."""
    from sklearn.linear_model import LogisticRegression

    classes = np.unique(labels)
    fits = [LogisticRegression(C=LR_C, max_iter=2000).fit(x, labels == c) for c in classes]
    return (np.stack([f.coef_[0] for f in fits]).astype(np.float32), np.asarray([f.intercept_[0] for f in fits], np.float32), classes)


def _fit_calibration(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    cal = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(features, target)
    return np.concatenate([cal.coef_[0], cal.intercept_]).astype(np.float64)


def fit_pair_calibration(features: np.ndarray, goals: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calibration from expert-judged (text, goal) pairs: weights + bias over the pair features, and a
    per-goal offset (what experts count as "about" a goal is stricter for some goals than others)."""
    from sklearn.linear_model import LogisticRegression

    onehot = np.eye(17)[goals - 1]
    fit = LogisticRegression(C=1.0, max_iter=5000).fit(np.hstack([features, onehot]), labels)
    weights = np.concatenate([fit.coef_[0][: features.shape[1]], fit.intercept_])
    return weights, fit.coef_[0][features.shape[1] :]


def apply_benchmark_calibration(model: TagModel, model_id: str, digest: str) -> bool:
    """Use `sdg_calibration.json` (written by bench/tagging.py --write-calibration) when it was fitted
    for this embedding model and these reference data; otherwise keep the calibration on our examples."""
    if not CALIBRATION.exists():
        return False
    saved = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    if saved.get("embedding_model") != model_id or saved.get("tagger_data") != digest:
        return False
    model.sdg_cal = np.asarray(saved["weights"], np.float64)
    model.sdg_goal_bias = np.asarray(saved["goal_bias"], np.float64)
    return True
