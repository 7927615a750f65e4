"""Search latency, memory and startup at 1k, 10k and 100k chunks of real embeddings, through the HTTP API.

    python bench/scale.py --root /tmp/kb-scale                 # builds what is missing, then measures
    python bench/scale.py --root /tmp/kb-scale --build-only    # the long part (1.5 h or more on 2 cores)
    python bench/scale.py --root /tmp/kb-scale --measure-only  # keep the machine otherwise idle for this

Collections: short practices (a title, a city, one sentence) whose sentences come from real texts:
the seed corpus, the tagger's example paragraphs and, when `../shared/data` is beside the project,
Participedia organisations, XQuAD paragraphs (en, de), UNFPA texts (es) and the SDG benchmark (en).
Each record's sentence is drawn with a fixed seed, and the title names the record, so every chunk is
distinct text (one sentence keeps 100k chunks to about an hour of embedding). Records are ingested
through the product (`KnowledgeBase.ingest`: embedding, tagging, store, index) into ROOT/<size>/,
each size grown from a copy of the previous one, one chunk per record.

For each size: `kb serve --no-seed` is started on the folder and timed to /healthz, its resident memory
read from /proc, and one client sends the judged corpus queries (several languages, some filtered) to
/search for `--rounds` passes after one warm-up pass (which caches each filter's totals and facets:
a filter seen for the first time costs one facet computation, about 25 ms at 10k records); p50/p95
are printed. At the largest size the server is also measured with
exact search (KB_IVF_FROM_CHUNKS=0) and with IVF (threshold --ivf-from, capped at the chunk count, so
a build stopped short of 100k still measures IVF), and recall@10 of the IVF index against exact search
is measured on the real query vectors.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from load import free_port, queries, rss_mb, wait_healthy  # noqa: E402

SHARED = Path(os.environ.get("KB_SHARED_DATA", ROOT.parent / "shared" / "data"))
CITIES = [("Bogotá", "CO", "Latin America"), ("Lyon", "FR", "Europe"), ("Nairobi", "KE", "Africa"),
          ("Seoul", "KR", "Asia Pacific"), ("Chicago", "US", "North America"), ("Recife", "BR", "Latin America"),
          ("Dakar", "SN", "Africa"), ("Berlin", "DE", "Europe"), ("Lima", "PE", "Latin America"), ("Tunis", "TN", "Middle East")]


def sentence_pool() -> list[tuple[str, str]]:
    """(sentence, language) from real texts; long enough to say something, short enough for one chunk."""
    from kb.text import split_sentences

    texts: list[tuple[str, str]] = []
    for path in sorted((ROOT / "corpus").glob("*/*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            texts.append((" ".join([record.get("summary", ""), record.get("description", "")]), record.get("language", "en")))
    for path in sorted((ROOT / "index" / "data" / "sdg_examples").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                texts.append((item["text"], item.get("language", "en")))
    texts += shared_texts()
    pool = []
    for text, language in texts:
        pool += [(s, language) for s in split_sentences(text) if 60 <= len(s) <= 400]
    return pool


def shared_texts() -> list[tuple[str, str]]:
    if not SHARED.is_dir():
        print(f"note: {SHARED} is absent; sentences come from the repository only")
        return []
    csv.field_size_limit(10**9)
    out = []
    for language in ("en", "de"):
        path = SHARED / "retrieval" / "xquad" / "beir" / language / "corpus.jsonl"
        out += [(json.loads(line)["text"], language) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    with open(SHARED / "practices" / "participedia" / "participedia_organisations_export.csv", encoding="utf-8-sig") as fh:
        out += [(row.get("body") or row.get("description") or "", "en") for row in csv.DictReader(fh)]
    with open(SHARED / "sdg" / "unfpa_sdg345_es_dev.csv", encoding="utf-8") as fh:
        out += [(row["Textos_espanol"], "es") for row in csv.DictReader(fh)]
    with open(SHARED / "sdg" / "sdg_benchmark_dev.csv", encoding="utf-8") as fh:
        out += [(row["text"], "en") for row in csv.DictReader(fh)]
    return out


def practices(pool: list[tuple[str, str]], start: int, count: int, seed: int = 7) -> list[dict]:
    """Records start..start+count-1, the same for a given seed whatever the batch boundaries."""
    out = []
    for i in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + i)
        sentence, language = pool[i % len(pool)] if i < len(pool) else rng.choice(pool)
        city, country, region = rng.choice(CITIES)
        out.append({"id": f"scale-{i}", "title": f"{city} practice {i}", "description": sentence,
                    "city": city, "country": country, "region": region, "language": language,
                    "year": rng.randint(1995, 2025), "sdgs": [rng.randint(1, 17)]})
    return out


def build(root: Path, sizes: list[int], pool: list[tuple[str, str]]) -> None:
    from api.service import KnowledgeBase
    from kb.settings import Settings

    previous = None
    for size in sizes:
        folder = root / str(size)
        if not folder.exists() and previous is not None:
            shutil.copytree(previous, folder)
        kb = KnowledgeBase(Settings(data_dir=folder))
        have = kb.store.stats()["records"]
        t0, added = time.perf_counter(), 0
        while have < size:
            batch = practices(pool, have, min(2000, size - have))
            path = root / "batch.jsonl"
            path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in batch), encoding="utf-8")
            kb.ingest([path])
            have, added = have + len(batch), added + len(batch)
            print(f"  {folder.name}: {have} records, {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
        if added:
            print(f"built {size}: {added} records ingested at {added / (time.perf_counter() - t0):.1f} records/s", flush=True)
        kb.close()
        previous = folder


def prepare(folder: Path) -> None:
    from api.service import KnowledgeBase
    from kb.settings import Settings

    kb = KnowledgeBase(Settings(data_dir=folder))
    kb.open_index()
    kb.close()


def measure_server(folder: Path, rounds: int, extra_env: dict | None = None) -> dict:
    port = free_port()
    env = {**os.environ, "KB_DATA_DIR": str(folder), "HF_HUB_OFFLINE": "1", **(extra_env or {})}
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--no-seed"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        info = wait_healthy(base, server, started)
        if info is None:
            raise SystemExit(f"server on {folder} did not start")
        startup = time.monotonic() - started
        work = queries()
        latencies, errors = [], 0
        with httpx.Client(base_url=base, timeout=30) as http:
            for params in work:  # warm up: one pass, so each filter's totals and facets are cached
                http.get("/search", params=params)
            for _ in range(rounds):
                for params in work:
                    t0 = time.perf_counter()
                    errors += http.get("/search", params=params).status_code != 200
                    latencies.append((time.perf_counter() - t0) * 1000)
        q = statistics.quantiles(latencies, n=100)
        return {"chunks": info["chunks"], "index": info.get("vector_index"), "startup_s": round(startup, 1),
                "rss_mb": round(rss_mb(server.pid)), "searches": len(latencies), "errors": errors,
                "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1)}
    finally:
        server.terminate()
        server.wait(60)


def ivf_recall(folder: Path) -> dict:
    """recall@10 of the saved IVF index against exact search over the same stored vectors, on the
    real query vectors of the judged corpus queries."""
    import faiss
    import numpy as np

    from index.embedder import Embedder
    from index.layout import all_vectors, recall_at_10
    from index.vectors import VectorIndex
    from kb.settings import Settings

    settings = Settings(data_dir=folder)
    embedder = Embedder(settings)
    index = VectorIndex.load(settings.index_dir, embedder.model_id, settings.ivf_from_chunks)
    if index is None or index.layout.kind != "ivf":
        return {"note": "index is not IVF"}
    ids, stored = all_vectors(index._index)
    exact = faiss.IndexFlatIP(stored.shape[1])
    exact.add(stored)
    vectors = embedder.encode_queries([q["q"] for q in queries()])
    _, rows = exact.search(vectors, 10)
    found = np.vstack([index.search(v, 10)[1] for v in vectors])
    return {"queries": len(vectors), "recall_at_10": round(recall_at_10(ids[rows], found), 4), **index.layout.__dict__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="folder for the data folders of each size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 167 queries per measurement")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--ivf-from", type=int, default=100_000,
                        help="IVF threshold for the IVF measurement at the largest size (capped at its chunk count)")
    args = parser.parse_args()
    root, sizes = args.root.resolve(), sorted(args.sizes)
    root.mkdir(parents=True, exist_ok=True)
    if not args.measure_only:
        pool = sentence_pool()
        print(f"sentence pool: {len(pool)} sentences", flush=True)
        build(root, sizes, pool)
    if args.build_only:
        return
    for size in sizes:  # bring each folder up to the installed product (e.g. vectors it lacks), untimed
        prepare(root / str(size))
    for size in sizes:
        result = measure_server(root / str(size), args.rounds)
        print(json.dumps({f"{size}": result}), flush=True)
    largest = root / str(sizes[-1])
    print(json.dumps({f"{sizes[-1]} exact": measure_server(largest, args.rounds, {"KB_IVF_FROM_CHUNKS": "0"})}), flush=True)
    # IVF at the largest size, even when it holds fewer chunks than the default threshold
    ivf_env = {"KB_IVF_FROM_CHUNKS": str(min(args.ivf_from, chunk_count(largest)))}
    print(json.dumps({f"{sizes[-1]} ivf (converted at start)": measure_server(largest, args.rounds, ivf_env)}), flush=True)
    print(json.dumps({f"{sizes[-1]} ivf (saved)": measure_server(largest, args.rounds, ivf_env)}), flush=True)
    print(json.dumps({"ivf_recall_real_queries": ivf_recall(largest)}), flush=True)


def chunk_count(folder: Path) -> int:
    from kb.store import Store

    store = Store(folder / "kb.sqlite3")
    try:
        return store.stats()["chunks"]
    finally:
        store.close()


if __name__ == "__main__":
    main()
