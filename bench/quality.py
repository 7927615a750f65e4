"""Search quality in one run: nDCG@10, recall@10 and MRR for the product and its parts.

    python bench/quality.py                   # corpus queries + XQuAD (when ../shared/data is there)
    python bench/quality.py --no-xquad        # corpus queries only

Systems compared on the same records, filters and queries:
  product      what /search does: e5 dense search centred per language, plus the rare-name bonus, the
               candidates re-ranked with USE-multilingual (index/use_vectors.py)
  dense        multilingual-e5 alone (centred per language; no keyword bonus, no USE)
  dense+use    both encoders, no keyword side
  dense-plain  plain multilingual-e5 cosine, no language correction
  keyword      the keyword side alone: BM25 over the store's FTS5 index (OR of the query's words)

Data sets:
  (a) bench/corpus_queries.jsonl against corpus/: all, by query language, cross-language subset
      (query language differs from every relevant record's), queries with filters;
  (b) XQuAD (../shared/data/retrieval/xquad/beir): English and German questions, English paragraphs;
  (c) the mixed-language variant: every other XQuAD paragraph replaced by its German version.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KB_SHARED_DATA", ROOT.parent / "shared" / "data"))
K = 10
SYSTEMS = ("product", "dense", "dense+use", "dense-plain", "keyword")


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** relevant.get(r, 0) - 1) / math.log2(i + 2) for i, r in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr(ranked: list[str], relevant: dict[str, int]) -> float:
    return next((1 / (i + 1) for i, r in enumerate(ranked[:K]) if r in relevant), 0.0)


def filters_of(spec: dict):
    from kb.filters import Filters

    return Filters(kind=spec.get("kind"), sdgs=frozenset(spec.get("sdg", [])), gender=spec.get("gender"),
                   language=spec.get("lang"), country=spec.get("country"), region=spec.get("region"))


def rankers(kb) -> dict[str, Callable]:
    """One function per system: (query text, query vector, filters) -> record ids, best first."""
    from index.keyword import query_terms
    from index.search import RERANK_POOL, Searcher
    from index.vectors import VectorIndex

    searcher = kb.searcher
    ids = kb.vectors.ids().tolist()
    languages = kb.store.chunk_languages(ids)
    plain_index = VectorIndex(kb.embedder.model_id, kb.embedder.dim)  # never fitted: no centring
    plain_index.add(ids, kb.vectors.raw_vectors(ids, [languages[i] for i in ids]), [languages[i] for i in ids])
    plain = Searcher(kb.store, plain_index, kb.embedder)

    def keyword(text, _vector, filters):
        hits = kb.store.keyword_chunks(query_terms(text), filters, 1000)
        rows = kb.store.chunks(c for c, _ in hits)
        return list(dict.fromkeys(rows[c]["record_id"] for c, _ in hits if c in rows))[:K]

    return {
        "product": lambda text, v, f: [r for r, _, _ in searcher.with_second_view(
            text, searcher.rank_records(v, f, RERANK_POOL, searcher.name_bonus(text, f)), RERANK_POOL)][:K],
        "dense": lambda text, v, f: [r for r, _, _ in searcher.rank_records(v, f, K)][:K],
        "dense+use": lambda text, v, f: [r for r, _, _ in searcher.with_second_view(text, searcher.rank_records(v, f, RERANK_POOL), RERANK_POOL)][:K],
        "dense-plain": lambda text, v, f: [r for r, _, _ in plain.rank_records(v, f, K)][:K],
        "keyword": keyword,
    }


def evaluate(kb, queries: list[dict]) -> list[dict]:
    """Each query: {'query', 'language', 'relevant', optional 'filters'} -> per-system metrics."""
    systems = rankers(kb)
    records = {r.id: r for r in kb.store.iter_records()}
    vectors = kb.embedder.encode_queries([q["query"] for q in queries])
    rows = []
    for q, vector in zip(queries, vectors, strict=True):
        filters = filters_of(q.get("filters") or {})
        relevant = {rid: int(g) for rid, g in q["relevant"].items()}
        row = {"id": q.get("id"), "language": q["language"], "filtered": bool(q.get("filters")),
               "cross_language": all(records[r].language != q["language"] for r in relevant if r in records)}
        for name, rank in systems.items():
            ranked = rank(q["query"], vector, filters)
            row[name] = {"ndcg": ndcg(ranked, relevant), "recall": recall(ranked, relevant), "mrr": mrr(ranked, relevant)}
        rows.append(row)
    return rows


def report(title: str, groups: dict[str, list[dict]]) -> None:
    print(f"\n{title}")
    print(f"{'subset':<30}{'n':>5}" + "".join(f"{s:>26}" for s in SYSTEMS))
    print(f"{'':<35}" + "".join(f"{'nDCG   R@10    MRR':>26}" for _ in SYSTEMS))
    for name, subset in groups.items():
        if not subset:
            continue
        cells = ""
        for system in SYSTEMS:
            means = [sum(r[system][m] for r in subset) / len(subset) for m in ("ndcg", "recall", "mrr")]
            cells += f"{means[0]:>14.3f}{means[1]:>6.3f}{means[2]:>6.3f}"
        print(f"{name:<30}{len(subset):>5}{cells}")


def corpus_groups(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups["all"].append(row)
    for row in rows:
        groups[f"query lang={row['language']}"].append(row)
    for row in rows:
        if row["cross_language"]:
            groups["cross-language"].append(row)
            groups[f"cross-language lang={row['language']}"].append(row)
    groups["with filters"] = [r for r in rows if r["filtered"]]
    return groups


def open_kb(data_dir: Path, paths: list[Path]):
    from api.service import KnowledgeBase
    from kb.settings import Settings

    kb = KnowledgeBase(Settings(data_dir=data_dir))
    if kb.store.stats()["records"] == 0:
        print(f"ingesting {', '.join(map(str, paths))} into {data_dir} ...", file=sys.stderr)
        kb.ingest(paths)
    return kb


def xquad(work: Path) -> None:
    beir = SHARED / "retrieval" / "xquad" / "beir"
    if not beir.exists():
        print(f"\n(XQuAD skipped: {beir} not found)")
        return

    def read(lang: str, name: str) -> list[dict]:
        return [json.loads(line) for line in (beir / lang / name).read_text().splitlines() if line.strip()]

    paragraphs = {lang: {p["_id"]: p for p in read(lang, "corpus.jsonl")} for lang in ("en", "de")}
    ids = sorted(paragraphs["en"])
    variants = {"English corpus": {i: "en" for i in ids},
                "mixed corpus (every other paragraph German)": {i: ("de" if n % 2 else "en") for n, i in enumerate(ids)}}
    for title, language_of in variants.items():
        folder = work / title.split()[0]
        folder.mkdir(parents=True, exist_ok=True)
        records = [{"id": i, "title": paragraphs[lang][i]["title"].replace("_", " "), "summary": paragraphs[lang][i]["text"],
                    "language": lang} for i, lang in language_of.items()]
        (folder / "paragraphs.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records))
        kb = open_kb(folder / "data", [folder / "paragraphs.jsonl"])
        groups = {}
        for lang in ("en", "de"):
            qrels = [line.split("\t") for line in (beir / lang / "qrels.tsv").read_text().splitlines()[1:]]
            relevant = {q: c for q, c, _ in qrels}
            queries = [{"query": q["text"], "language": lang, "relevant": {relevant[q["_id"]]: 1}} for q in read(lang, "queries.jsonl")]
            groups[f"{lang} questions"] = evaluate(kb, queries)
        report(f"(b/c) XQuAD, {title}: {len(ids)} paragraphs", groups)
        kb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="existing store holding the corpus (default: a temporary one)")
    parser.add_argument("--queries", type=Path, default=ROOT / "bench" / "corpus_queries.jsonl")
    parser.add_argument("--no-xquad", action="store_true", help="skip the XQuAD data sets")
    parser.add_argument("--json", type=Path, help="also write the per-query figures of (a) here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kb-quality-"))
    kb = open_kb(args.data_dir or work / "corpus-data", [ROOT / "corpus"])
    queries = [json.loads(line) for line in args.queries.read_text().splitlines() if line.strip()]
    rows = evaluate(kb, queries)
    print(f"model {kb.embedder.model_id}; systems: {', '.join(SYSTEMS)} (see --help); cells: nDCG@10 recall@10 MRR")
    report(f"(a) corpus: {len(queries)} queries, {kb.store.stats()['records']} records", corpus_groups(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    kb.close()
    if not args.no_xquad:
        xquad(work)


if __name__ == "__main__":
    main()
