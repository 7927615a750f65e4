"""The vector part alone at scale: exact (flat) search against IVF, on synthetic embedding-like vectors.

    python bench/vectors_scale.py                  # 1M vectors of 384 dimensions (about 3 GB of RAM, a few minutes)
    python bench/vectors_scale.py --n 100000

Real sentence embeddings are not uniform on the sphere: they sit in topical clusters. The vectors here
are drawn around 20,000 random centres with noise of similar relative size, normalised, with a fixed
seed; queries are drawn the same way. For each IVF nprobe the script prints recall@10 against exact
search and the single-query latency (p50/p95 over 300 queries, FAISS using every core), so the
product's threshold and nprobe can be read off.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def clustered(n: int, dim: int, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, len(centres), n)
    out = centres[picks] + rng.normal(0, 0.6 / np.sqrt(dim), (n, dim)).astype(np.float32) * 1.2
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def timed(search, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = search(q[None, :])
        times.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0])
    return times, np.asarray(found)


def main() -> None:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 1, (20_000, args.dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    t0 = time.perf_counter()
    data = np.vstack([clustered(min(100_000, args.n - s), args.dim, centres, rng) for s in range(0, args.n, 100_000)])
    queries = clustered(300, args.dim, centres, rng)
    print(f"{args.n:,} vectors of {args.dim} dimensions generated in {time.perf_counter() - t0:.0f} s; faiss threads {faiss.omp_get_max_threads()}")

    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(args.dim))
    flat.add_with_ids(data, np.arange(args.n, dtype=np.int64))
    flat_times, truth = timed(lambda q: flat.search(q, 10), queries)
    print(f"flat (exact): p50 {statistics.median(flat_times):.1f} ms, p95 {np.percentile(flat_times, 95):.1f} ms")

    nlist = int(4 * np.sqrt(args.n))
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(args.dim)
    ivf = faiss.IndexIVFFlat(quantizer, args.dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(data[rng.choice(args.n, min(args.n, 40 * nlist), replace=False)])
    ivf.add_with_ids(data, np.arange(args.n, dtype=np.int64))
    print(f"IVF{nlist},Flat built in {time.perf_counter() - t0:.0f} s")
    for nprobe in (8, 16, 32, 64, 128):
        ivf.nprobe = nprobe
        times, found = timed(lambda q: ivf.search(q, 10), queries)
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        print(f"  nprobe {nprobe:>3}: recall@10 {recall:.3f}, p50 {statistics.median(times):.2f} ms, p95 {np.percentile(times, 95):.2f} ms")


if __name__ == "__main__":
    main()
