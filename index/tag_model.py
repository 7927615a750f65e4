"""The tagger's fitted parameters: SDG and gender-perspective scores from sentence embeddings.

Signals, each cheap once a text is embedded by multilingual-e5 and by USE multilingual (two encoders
that err differently):
- per encoder, a one-vs-rest logistic regression trained on the hand-written, multilingual examples
  in `index/data/sdg_examples/` plus the official goal statements and targets;
- per encoder, the mean and best similarity to each goal's official targets (`index/data/sdg_goals.json`),
  standardised per goal so that broad goals do not win every text;
- multilingual keyword rates per goal;
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
MODEL_FORMAT = 2
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


class GoalKeywords:
    """Keyword rates of the 17 goals (`keywords` in sdg_goals.json)."""

    def __init__(self):
        self._goals = [Keywords(goal_data()[g]["keywords"]) for g in GOALS]

    def rates(self, texts: list[str]) -> np.ndarray:
        return np.asarray([[k.rate(t) for k in self._goals] for t in texts], np.float32).reshape(len(texts), 17)


@dataclass
class GoalView:
    """The goal signals of one encoder: a one-vs-rest regression over its vectors and the standardised
    mean and best similarity to each goal's targets."""

    lr_w: np.ndarray  # (classes, dim)
    lr_b: np.ndarray  # (classes,)
    lr_classes: np.ndarray  # class labels, 0 = no goal
    ref: np.ndarray  # (refs, dim) target and goal texts
    ref_owner: np.ndarray  # (refs,) goal of each reference
    sim_mean: np.ndarray  # (34,) per-goal mean and best similarity, averaged over the examples
    sim_std: np.ndarray  # (34,)

    def goal_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 17) probability of each goal (class 0, no goal, dropped)."""
        p = _sigmoid(vectors @ self.lr_w.T + self.lr_b)
        return np.stack([p[:, list(self.lr_classes).index(g)] for g in GOALS], 1)

    def goal_similarity(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 34) standardised mean and best similarity to each goal's targets."""
        sims = vectors @ self.ref.T
        mean = np.stack([sims[:, self.ref_owner == g].mean(1) for g in GOALS], 1)
        best = np.stack([sims[:, self.ref_owner == g].max(1) for g in GOALS], 1)
        return (np.concatenate([mean, best], 1) - self.sim_mean) / self.sim_std

    def features(self, vectors: np.ndarray, probabilities: np.ndarray | None = None) -> np.ndarray:
        """(n, 17, 6) per (text, goal): log-probability, its rank, similarities and their gaps to the best goal."""
        p = self.goal_probabilities(vectors) if probabilities is None else probabilities
        z, zmax = np.split(self.goal_similarity(vectors), 2, axis=1)
        rank_p = (p[:, None, :] > p[:, :, None]).sum(2)
        return np.stack([np.log(p + 1e-6), rank_p == 0, z, z - z.max(1, keepdims=True), zmax, zmax - zmax.max(1, keepdims=True)], 2)

    @classmethod
    def fit(cls, x: np.ndarray, labels: np.ndarray, ref: np.ndarray, ref_owner: np.ndarray) -> tuple[GoalView, np.ndarray]:
        """The view and its out-of-fold goal probabilities on the examples (what calibration must see:
        the regression as it behaves on text it was not trained on)."""
        from sklearn.model_selection import StratifiedKFold

        view = cls(*_one_vs_rest(x, labels), ref=ref, ref_owner=ref_owner, sim_mean=np.zeros(34), sim_std=np.ones(34))
        raw = view.goal_similarity(x)
        view.sim_mean, view.sim_std = raw.mean(0), raw.std(0) + 1e-6
        oof = np.zeros((len(x), len(view.lr_classes)))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, labels):
            w, b, _ = _one_vs_rest(x[train], labels[train])
            oof[test] = _sigmoid(x[test] @ w.T + b)
        return view, np.stack([oof[:, list(view.lr_classes).index(g)] for g in GOALS], 1)


@dataclass
class TagModel:
    """Two encoders' views (multilingual-e5 and USE multilingual, which err differently), keyword rates,
    and the calibrations. Arrays only, saved as .npz without pickle."""

    e5: GoalView
    use: GoalView
    sdg_cal: np.ndarray  # weights of the (text, goal) calibration, last = bias
    sdg_goal_bias: np.ndarray  # (17,) per-goal offsets (zero unless a benchmark calibration is applied)
    gender_ref: np.ndarray  # (m, dim) gender-theme descriptions, e5 query vectors
    gender_cal: np.ndarray  # weights of the gender calibration, last = bias

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"{name}.{k}": v for name in ("e5", "use") for k, v in getattr(self, name).__dict__.items()}
        arrays.update({k: getattr(self, k) for k in ("sdg_cal", "sdg_goal_bias", "gender_ref", "gender_cal")})
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TagModel:
        with np.load(path, allow_pickle=False) as data:
            views = {name: GoalView(**{k: data[f"{name}.{k}"] for k in GoalView.__dataclass_fields__}) for name in ("e5", "use")}
            return cls(**views, **{k: data[k] for k in ("sdg_cal", "sdg_goal_bias", "gender_ref", "gender_cal")})

    def sdg_features(self, vectors: np.ndarray, use_vectors: np.ndarray, rates: np.ndarray, oof: tuple | None = None) -> np.ndarray:
        """(n, 17, f) features of each (text, goal) pair; `rates` are the goals' keyword rates (n, 17)."""
        top_rate = (rates >= rates.max(1, keepdims=True)) & (rates > 0)
        e5 = self.e5.features(vectors, oof[0] if oof else None)
        use = self.use.features(use_vectors, oof[1] if oof else None)
        return np.concatenate([e5, use, np.stack([rates, top_rate], 2)], 2).astype(np.float32)

    def sdg_scores(self, vectors: np.ndarray, use_vectors: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """(n, 17) calibrated probability that each text is about each goal."""
        return _sigmoid(self.sdg_features(vectors, use_vectors, rates) @ self.sdg_cal[:-1] + self.sdg_cal[-1] + self.sdg_goal_bias)

    def gender_features(self, vectors: np.ndarray, keyword_rates: np.ndarray, p5: np.ndarray | None = None) -> np.ndarray:
        sims = np.sort(vectors @ self.gender_ref.T, 1)[:, -3:].mean(1)
        p5 = self.e5.goal_probabilities(vectors)[:, 4] if p5 is None else p5
        return np.stack([sims, np.log(p5 + 1e-6), keyword_rates], 1).astype(np.float32)

    def gender_scores(self, vectors: np.ndarray, keyword_rates: np.ndarray) -> np.ndarray:
        return _sigmoid(self.gender_features(vectors, keyword_rates) @ self.gender_cal[:-1] + self.gender_cal[-1])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fit_tag_model(embedder, use_encoder) -> TagModel:
    """Fit every parameter from the shipped reference data (about a minute on two cores)."""
    texts, labels = load_examples()
    ref_texts, ref_owner = target_texts()
    gender = gender_data()
    x, u = embedder.encode_passages(texts), use_encoder.encode(texts)
    e5, e5_oof = GoalView.fit(x, labels, embedder.encode_queries(ref_texts), ref_owner)
    use, use_oof = GoalView.fit(u, labels, use_encoder.encode(ref_texts), ref_owner)
    gender_ref = embedder.encode_queries([t for ts in gender["descriptions"].values() for t in ts])
    model = TagModel(e5, use, np.zeros(0), np.zeros(17), gender_ref, np.zeros(0))
    features = model.sdg_features(x, u, GoalKeywords().rates(texts), (e5_oof, use_oof))
    model.sdg_cal = _fit_calibration(features.reshape(-1, features.shape[2]), (labels[:, None] == np.arange(1, 18)[None, :]).reshape(-1))
    keywords = Keywords(gender["keywords"])
    rates = np.asarray([keywords.rate(t) for t in texts])
    model.gender_cal = _fit_calibration(model.gender_features(x, rates, e5_oof[:, 4]), labels == 5)
    return model


LR_C = 10.0


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
