"""Ingest throughput vs raw encoding, and warm /search latency vs bare encode + FAISS, at 1k and 10k chunks.

    python bench/ingest_search.py                 # 1k and 10k chunks (about 10 minutes on 2 cores)
    python bench/ingest_search.py --sizes 1000    # quicker

Synthetic but varied practices (several languages, themes, cities, lengths) are generated with a fixed
seed, ingested through the product (`KnowledgeBase.ingest`), and the same chunk texts are encoded raw
with `model.encode` in the same run. Searches go through FastAPI's TestClient (the whole HTTP stack,
in process) and are compared with encoding the query plus a bare FAISS search, on the same queries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CITIES = [("Bogotá", "CO", "es"), ("Lima", "PE", "es"), ("Madrid", "ES", "es"), ("Quito", "EC", "es"),
          ("Lyon", "FR", "fr"), ("Dakar", "SN", "fr"), ("Montréal", "CA", "fr"), ("Tunis", "TN", "fr"),
          ("Nairobi", "KE", "en"), ("Seoul", "KR", "en"), ("Chicago", "US", "en"), ("Melbourne", "AU", "en"),
          ("Recife", "BR", "pt"), ("Lisboa", "PT", "pt")]
THEMES = {
    "en": [("bus rapid transit", "The city opened dedicated bus lanes with level boarding and off-board fare payment."),
           ("women's safety audits", "Groups of women walked their neighbourhood at night and mapped unsafe spots."),
           ("green roofs", "New public buildings must cover part of their roofs with vegetation to absorb rain."),
           ("participatory budgeting", "Residents proposed and voted on projects funded from the investment budget."),
           ("waste pickers' cooperative", "Informal waste pickers were organised into a cooperative with a municipal contract.")],
    "es": [("transporte público gratuito", "La alcaldía eliminó la tarifa de los autobuses para las personas residentes."),
           ("sistema de cuidados", "Se abrieron centros donde las cuidadoras reciben formación y descanso."),
           ("huertos urbanos", "Los vecinos cultivan hortalizas en terrenos municipales abandonados."),
           ("vivienda social", "El municipio rehabilitó edificios vacíos para alquiler asequible.")],
    "fr": [("marches exploratoires", "Des habitantes ont parcouru le quartier pour repérer les lieux insécurisants."),
           ("budget sensible au genre", "La ville analyse ses dépenses selon leurs effets sur les femmes et les hommes."),
           ("îlots de fraîcheur", "Les cours d'école sont végétalisées pour rafraîchir le quartier en été.")],
    "pt": [("orçamento participativo", "A população define em assembleias as prioridades de investimento."),
           ("requalificação de favelas", "A prefeitura levou saneamento e pavimentação aos assentamentos informais.")],
}
FILLER = {
    "en": ["The programme was evaluated after three years.", "Residents were consulted at every stage.",
           "The budget came from the city and national funds.", "Results were published in an open data portal.",
           "Other districts asked to replicate the approach.", "Maintenance costs were lower than expected."],
    "es": ["El programa se evaluó después de tres años.", "Se consultó a la ciudadanía en cada etapa.",
           "Los resultados se publicaron en datos abiertos.", "Otros barrios pidieron replicar la experiencia."],
    "fr": ["Le programme a été évalué après trois ans.", "Les habitants ont été consultés à chaque étape.",
           "Les résultats ont été publiés en données ouvertes.", "D'autres quartiers ont demandé à reproduire l'approche."],
    "pt": ["O programa foi avaliado após três anos.", "Os moradores foram consultados em todas as etapas.",
           "Os resultados foram publicados em dados abertos."],
}
QUERIES = ["women's safety in public space", "transporte público gratuito", "budget participatif",
           "green roofs against flooding", "cooperativa de recicladores", "vivienda asequible",
           "cours d'école végétalisées", "bus lanes", "care work and childcare", "urban agriculture"]


def practices(n: int, seed: int = 42) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        city, country, lang = rng.choice(CITIES)
        theme, core = rng.choice(THEMES[lang])
        body = [core] + [rng.choice(FILLER[lang]) for _ in range(rng.randint(8, 30))]
        out.append({"id": f"bench-{i}", "title": f"{theme.capitalize()} — {city} #{i}", "summary": core,
                    "description": " ".join(body), "city": city, "country": country, "language": lang,
                    "year": rng.randint(1990, 2024), "sdgs": rng.sample(range(1, 18), 2), "gender_perspective": rng.random() < 0.3})
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def measure_search(kb, client, rounds: int) -> dict:
    import numpy as np

    for q in QUERIES:  # warm up
        client.get("/search", params={"q": q})
    api, bare = [], []
    for _ in range(rounds):
        for q in QUERIES:
            t = time.perf_counter()
            assert client.get("/search", params={"q": q, "limit": 10}).status_code == 200
            api.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            vector = kb.embedder.encode_queries([q])[0]
            kb.vectors.search(np.asarray(vector), 10)
            bare.append((time.perf_counter() - t) * 1000)
    (a50, a95), (b50, b95) = percentiles(api), percentiles(bare)
    return {"api_p50_ms": round(a50, 1), "api_p95_ms": round(a95, 1), "bare_p50_ms": round(b50, 1),
            "bare_p95_ms": round(b95, 1), "p50_ratio": round(a50 / b50, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="chunk counts to measure at")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the query list per size")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.service import KnowledgeBase
    from kb.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    kb = KnowledgeBase(Settings(data_dir=work / "data"))
    kb.open_index()
    records = practices(max(args.sizes) * 2)
    next_record, report = 0, {}
    with TestClient(create_app(kb.settings, kb)) as client:
        for size in sorted(args.sizes):
            batch = []
            while kb.store.stats()["chunks"] + sum(1 + len(r["description"].split()) // 140 for r in batch) < size:
                batch.append(records[next_record])
                next_record += 1
            path = work / f"batch-{size}.jsonl"
            path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in batch))
            t = time.perf_counter()
            result = kb.ingest([path])
            ingest_s = time.perf_counter() - t
            new_ids = kb.store.all_chunk_ids()[-result.chunks:]
            texts = [text for _, text, _ in kb.store.chunk_texts_for_embedding(new_ids)]
            t = time.perf_counter()
            kb.embedder.model.encode(texts, prompt_name="passage", batch_size=32, normalize_embeddings=True)
            encode_s = time.perf_counter() - t
            stats = kb.store.stats()
            report[size] = {
                "records": stats["records"], "chunks": stats["chunks"], "ingested_records": len(batch),
                "ingest_s": round(ingest_s, 1), "raw_encode_s": round(encode_s, 1),
                "ingest_docs_per_s": round(len(batch) / ingest_s, 1),
                "ingest_overhead_vs_raw_encode": f"{(ingest_s / encode_s - 1) * 100:+.0f}%",
                **measure_search(kb, client, args.rounds),
            }
            print(json.dumps({f"{size}_chunks": report[size]}, indent=2), flush=True)
    print("targets: ingest overhead <= +25% over raw encoding; search p50 <= 1.5x bare encode + FAISS")


if __name__ == "__main__":
    main()
