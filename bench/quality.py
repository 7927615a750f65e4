"""Search quality on the corpus queries: nDCG@10, recall@10 and MRR for the product and a BM25 baseline.

    python bench/quality.py                       # ingests corpus/ into a temporary store first
    python bench/quality.py --data-dir kb-data    # or uses an existing store that holds the corpus

Figures are printed for all queries, by query language, and for the cross-language subset (the query's
language differs from every relevant record's language). The baseline is plain BM25 over the same
records (title + text), with the same filters, so the two columns differ only in ranking.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
K = 10


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** relevant.get(r, 0) - 1) / math.log2(i + 2) for i, r in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr(ranked: list[str], relevant: dict[str, int]) -> float:
    return next((1 / (i + 1) for i, r in enumerate(ranked) if r in relevant), 0.0)


def words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return [w for w in re.findall(r"[a-z0-9]+", plain) if len(w) > 1]


class BM25:
    """Okapi BM25 (k1=1.5, b=0.75) over whole records: the keyword-only baseline."""

    def __init__(self, docs: dict[str, str]):
        self.terms = {rid: Counter(words(text)) for rid, text in docs.items()}
        self.lengths = {rid: sum(c.values()) for rid, c in self.terms.items()}
        self.avg = sum(self.lengths.values()) / max(len(self.lengths), 1)
        df = Counter(t for c in self.terms.values() for t in c)
        n = len(self.terms)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def rank(self, query: str, allowed: set[str]) -> list[str]:
        scores: dict[str, float] = defaultdict(float)
        for term in set(words(query)):
            for rid in allowed:
                tf = self.terms[rid].get(term, 0)
                if tf:
                    norm = tf + 1.5 * (1 - 0.75 + 0.75 * self.lengths[rid] / self.avg)
                    scores[rid] += self.idf[term] * tf * 2.5 / norm
        return sorted(scores, key=lambda r: -scores[r])


def filters_of(spec: dict):
    from kb.filters import Filters

    return Filters(kind=spec.get("kind"), sdgs=frozenset(spec.get("sdg", [])), gender=spec.get("gender"),
                   language=spec.get("lang"), country=spec.get("country"), region=spec.get("region"))


def summarise(rows: list[dict], systems: list[str]) -> None:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups["all"].append(row)
        groups[f"lang={row['language']}"].append(row)
        if row["cross_language"]:
            groups["cross-language"].append(row)
            groups[f"cross-language lang={row['language']}"].append(row)
        if row["filtered"]:
            groups["with filters"].append(row)
    header = f"{'subset':<28}{'n':>5}" + "".join(f"{s + ' ' + m:>22}" for s in systems for m in ("nDCG@10", "R@10", "MRR"))
    print(header)
    for name in sorted(groups, key=lambda g: (g != "all", g)):
        subset = groups[name]
        cells = []
        for system in systems:
            for metric in ("ndcg", "recall", "mrr"):
                cells.append(f"{sum(r[system][metric] for r in subset) / len(subset):>22.3f}")
        print(f"{name:<28}{len(subset):>5}" + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="existing store holding the corpus (default: a temporary one)")
    parser.add_argument("--queries", type=Path, default=ROOT / "corpus" / "queries" / "queries.jsonl")
    parser.add_argument("--json", type=Path, help="also write per-query figures here")
    args = parser.parse_args()

    from api.service import KnowledgeBase
    from kb.settings import Settings

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kb-quality-"))
    kb = KnowledgeBase(Settings(data_dir=data_dir))
    if kb.store.stats()["records"] == 0:
        print(f"ingesting {ROOT / 'corpus'} into {data_dir} ...", file=sys.stderr)
        kb.ingest([ROOT / "corpus"])
    records = {r.id: r for r in kb.store.iter_records()}
    bm25 = BM25({rid: f"{r.title} {r.text()}" for rid, r in records.items()})
    queries = [json.loads(line) for line in args.queries.read_text().splitlines() if line.strip()]

    rows = []
    for q in queries:
        filters = filters_of(q.get("filters") or {})
        relevant = {rid: int(g) for rid, g in q["relevant"].items()}
        product = [h.record.id for h in kb.search(q["query"], filters, limit=K).hits]
        keyword = bm25.rank(q["query"], set(kb.store.record_ids(filters)))[:K]
        row = {"id": q["id"], "language": q["language"], "filtered": bool(q.get("filters")),
               "cross_language": all(records[r].language != q["language"] for r in relevant if r in records)}
        for name, ranked in (("product", product), ("bm25", keyword)):
            row[name] = {"ndcg": ndcg(ranked, relevant), "recall": recall(ranked, relevant), "mrr": mrr(ranked, relevant),
                         "top": ranked[:3]}
        rows.append(row)
    print(f"{len(queries)} queries, {len(records)} records, model {kb.embedder.model_id}")
    summarise(rows, ["product", "bm25"])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
