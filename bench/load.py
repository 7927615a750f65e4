"""Startup time, memory and sustained concurrent search load against a real `kb serve` process.

    python bench/load.py --data-dir kb-data            # an existing store + index (e.g. after `kb serve` once)
    python bench/load.py --data-dir kb-data --seconds 60 --clients 4

Starts `kb serve --no-seed` on a free port and times it until /healthz answers (with the index
already built, nothing is embedded), reads the server's resident memory from /proc, then runs
`--clients` concurrent clients from this (second) process for `--seconds`, each sending the judged
corpus queries (bench/corpus_queries.jsonl, in several languages, some with filters) to /search in a
loop. Prints throughput, latency percentiles, errors and the memory before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def queries() -> list[dict]:
    lines = (ROOT / "bench" / "corpus_queries.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for item in (json.loads(line) for line in lines if line.strip()):
        out.append({"q": item["query"], "limit": 10, **(item.get("filters") or {})})
    return out


def wait_healthy(base: str, server: subprocess.Popen, started: float) -> dict | None:
    while time.monotonic() - started < 300 and server.poll() is None:
        try:
            health = httpx.get(f"{base}/healthz", timeout=2)
            if health.status_code == 200:
                return health.json()
        except httpx.HTTPError:
            time.sleep(0.1)
    return None


def run_clients(base: str, clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    work = queries()
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            n = offset
            while time.monotonic() < stop:
                params = work[n % len(work)]
                n += 1
                t0 = time.perf_counter()
                try:
                    response = http.get("/search", params=params)
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} {params['q']}")
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__} {params['q']}")
                latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=client, args=(i * 37,)) for i in range(clients)]
    t0 = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.monotonic() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "KB_DATA_DIR": str(args.data_dir.resolve()), "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--no-seed"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        info = wait_healthy(base, server, started)
        if info is None:
            print("server did not start")
            return 1
        print(f"store: {info['records']} records, {info['chunks']} chunks; startup to /healthz {time.monotonic() - started:.1f} s; "
              f"RSS {rss_mb(server.pid):.0f} MB")
        latencies, errors, elapsed = run_clients(base, args.clients, args.seconds)
        q = statistics.quantiles(latencies, n=100)
        print(f"{args.clients} clients for {elapsed:.0f} s: {len(latencies)} searches, {len(latencies) / elapsed:.1f}/s, "
              f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, errors {len(errors)}")
        print(f"server RSS after load {rss_mb(server.pid):.0f} MB")
        for error in errors[:5]:
            print("  error:", error)
        return 0 if not errors else 1
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    sys.exit(main())
