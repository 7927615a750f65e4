"""How well the tagger suggests SDGs and the gender perspective, in one run.

    python bench/tagging.py [--shared ../shared/data] [--write-calibration]

- SDGs: accuracy on the expert-judged (text, sdg, label) pairs of sdg_benchmark_dev.csv, overall and
  per SDG, at the product's threshold (KB_SUGGESTION_THRESHOLD). Two set-ups are reported:
  * "examples only": the tagger calibrated on its own hand-written examples; no benchmark text is
    used for anything, so this is a blind figure;
  * "benchmark-calibrated, 5-fold": the pair calibration (a dozen weights and one offset per SDG) is
    fitted on four fifths of the pairs and scored on the fifth it never saw, repeated over 5 shuffles.
    This is the set-up the product ships when `index/data/sdg_calibration.json` is present (that file
    is fitted on all 501 pairs by --write-calibration; the held-out part of the benchmark is not here).
- Gender perspective: precision, recall and F1 of "SDG 5" against "SDG 3 or 4" on the Spanish
  unfpa_sdg345_es_dev.csv (mojibake repaired as the product repairs it), and on the hand-written French
  and English check sets in bench/data/ (written for this purpose, never used for fitting).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prf(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float((pred & truth).sum())
    precision = tp / max(pred.sum(), 1)
    recall = tp / max(truth.sum(), 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


def encode_texts(kb, texts: list[str]):
    """Chunk each text as `POST /tag` does, embed all chunks in one go; (passages per text, vectors per text)."""
    from index.tagger import Passage
    from ingest.chunking import chunk_text
    from ingest.text_quality import repair

    s = kb.settings
    per_text = [[Passage(c) for c in chunk_text(repair(t)[0], s.chunk_words, s.chunk_overlap)] or [Passage(t)] for t in texts]
    flat = kb.embedder.encode_passages([p.text for ps in per_text for p in ps])
    out, start = [], 0
    for ps in per_text:
        out.append(flat[start : start + len(ps)])
        start += len(ps)
    return per_text, out


def sdg_pairs(kb, path: Path, write_calibration: bool) -> None:
    from sklearn.model_selection import StratifiedKFold

    from index.tag_model import GoalKeywords, fit_pair_calibration

    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    labels = np.asarray([r["label"] == "True" for r in rows])
    goals = np.asarray([int(r["sdg"]) for r in rows])
    threshold = kb.settings.suggestion_threshold
    tagger = kb.tagger
    model = tagger.model
    saved = model.sdg_cal.copy(), model.sdg_goal_bias.copy()
    passages, vectors = encode_texts(kb, [r["text"] for r in rows])
    # Pair features of the whole text (mean of its chunk vectors; most benchmark texts are one chunk).
    x = np.vstack([v.mean(0) / np.linalg.norm(v.mean(0)) for v in vectors])
    use = [tagger.use.encode([p.text for p in ps]) for ps in passages]
    u = np.vstack([v.mean(0) / np.linalg.norm(v.mean(0)) for v in use])
    whole = [" ".join(p.text for p in ps) for ps in passages]
    features = model.sdg_features(x, u, GoalKeywords().rates(whole))[np.arange(len(rows)), goals - 1]

    examples_only = _examples_only_scores(tagger, passages, vectors, goals)
    print(f"SDG pairs: {len(rows)} from {path.name} ({int(labels.sum())} true), threshold {threshold}")
    report("examples only (blind)", examples_only >= threshold, labels, goals)

    folds_pred = []
    for seed in range(5):
        pred = np.zeros(len(rows), bool)
        for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(features, goals * 2 + labels):
            weights, goal_bias = fit_pair_calibration(features[train], goals[train], labels[train])
            z = features[test] @ weights[:-1] + weights[-1] + goal_bias[goals[test] - 1]
            pred[test] = 1 / (1 + np.exp(-z)) >= threshold
        folds_pred.append(pred)
    accs = [float((p == labels).mean()) for p in folds_pred]
    print(f"  benchmark-calibrated, 5-fold x 5 shuffles: accuracy {np.mean(accs):.3f} (min {min(accs):.3f}, max {max(accs):.3f})")
    report("  benchmark-calibrated (first shuffle)", folds_pred[0], labels, goals)
    model.sdg_cal, model.sdg_goal_bias = saved
    if write_calibration:
        write_benchmark_calibration(tagger, features, goals, labels, path, float(np.mean(accs)))


def _examples_only_scores(tagger, passages, vectors, goals) -> np.ndarray:
    """Scores through the product's path (Tagger.tag) with the calibration fitted on the hand-written examples."""
    from index.tag_model import TagModel

    model = tagger.model
    tagger.model = TagModel.load(tagger.model_path)
    try:
        scores = []
        for ps, v, goal in zip(passages, vectors, goals, strict=True):
            found = {s.value: s.score for s in tagger.tag(ps, v, evidence=False).sdgs}
            scores.append(found.get(int(goal), 0.0))
    finally:
        tagger.model = model
    return np.asarray(scores)


def write_benchmark_calibration(tagger, features, goals, labels, path: Path, cv_accuracy: float) -> None:
    from index.tag_model import CALIBRATION, data_digest, fit_pair_calibration

    weights, goal_bias = fit_pair_calibration(features, goals, labels)
    CALIBRATION.write_text(json.dumps({
        "embedding_model": tagger.embedder.model_id, "tagger_data": data_digest(),
        "fitted_on": f"{path.name}: {len(labels)} expert-judged (text, sdg) pairs",
        "cross_validated_accuracy": round(cv_accuracy, 4),
        "weights": [round(float(w), 6) for w in weights], "goal_bias": [round(float(b), 6) for b in goal_bias],
    }, indent=1) + "\n")
    print(f"  wrote {CALIBRATION.relative_to(ROOT)}")


def report(name: str, pred: np.ndarray, labels: np.ndarray, goals: np.ndarray) -> None:
    per = {g: float((pred[goals == g] == labels[goals == g]).mean()) for g in range(1, 18)}
    print(f"  {name}: accuracy {float((pred == labels).mean()):.3f}")
    print("    per SDG: " + " ".join(f"{g}:{a:.2f}" for g, a in per.items()))


def gender(kb, name: str, texts: list[str], truth: np.ndarray) -> None:
    passages, vectors = encode_texts(kb, texts)
    scores = np.asarray([kb.tagger.tag(p, v, evidence=False).gender.score for p, v in zip(passages, vectors, strict=True)])
    p, r, f = prf(scores >= kb.settings.suggestion_threshold, truth)
    print(f"  {name}: {len(texts)} texts ({int(truth.sum())} positive)  precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--write-calibration", action="store_true", help="fit index/data/sdg_calibration.json on all benchmark pairs")
    args = parser.parse_args()
    import tempfile

    from api.service import KnowledgeBase
    from kb.settings import Settings

    started = time.time()
    with tempfile.TemporaryDirectory() as folder:
        kb = KnowledgeBase(Settings(data_dir=Path(folder)))
        print(f"tagger {kb.tagger.version}")
        sdg_file = args.shared / "sdg" / "sdg_benchmark_dev.csv"
        if sdg_file.exists():
            sdg_pairs(kb, sdg_file, args.write_calibration)
        else:
            print(f"skipped SDG pairs: {sdg_file} not found")
        print(f"gender perspective (threshold {kb.settings.suggestion_threshold}):")
        unfpa = args.shared / "sdg" / "unfpa_sdg345_es_dev.csv"
        if unfpa.exists():
            rows = list(csv.DictReader(unfpa.open(encoding="utf-8")))
            gender(kb, f"{unfpa.name} (es, SDG 5 vs 3/4)", [r["Textos_espanol"] for r in rows], np.asarray([r["sdg"] == "5" for r in rows]))
        for lang in ("fr", "en"):
            items = [json.loads(line) for line in (ROOT / "bench" / "data" / f"gender_check_{lang}.jsonl").open(encoding="utf-8")]
            gender(kb, f"gender_check_{lang}.jsonl", [i["text"] for i in items], np.asarray([i["gender"] for i in items]))
        kb.close()
    print(f"({time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
