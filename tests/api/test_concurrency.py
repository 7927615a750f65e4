"""Searches keep answering, without errors, while records are written: a real uvicorn process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import httpx

from tests.conftest import API_KEY, DATA


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir) -> tuple[subprocess.Popen, str]:
    """`kb serve` over `data_dir` on a free port, once /healthz answers: (process, base URL)."""
    port = free_port()
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), "KB_API_KEYS": API_KEY, "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--no-seed"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    return server, base


def test_searches_answer_while_records_are_written(settings_factory):
    settings = settings_factory()
    env = {**os.environ, "KB_DATA_DIR": str(settings.data_dir), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(DATA / "practices.json")], env=env, check=True,
                   capture_output=True, timeout=300)
    server, base = start_server(settings.data_dir)
    try:
        statuses: list[int] = []
        stop = threading.Event()

        def searcher() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while not stop.is_set():
                    statuses.append(client.get("/search", params={"q": "participatory budget", "limit": 5}).status_code)

        threads = [threading.Thread(target=searcher) for _ in range(3)]
        for thread in threads:
            thread.start()
        with httpx.Client(base_url=base, timeout=60, headers={"X-API-Key": API_KEY}) as writer:
            for i in range(15):  # writes, each embedding and saving the index, while searches run
                record = {"id": f"written-{i}", "title": f"Participatory budget of district {i}",
                          "summary": f"Residents of district {i} vote on projects funded by the city budget."}
                assert writer.post("/records", content=json.dumps(record),
                                   headers={"Content-Type": "application/json"}).status_code == 201
        stop.set()
        for thread in threads:
            thread.join(30)
        assert len(statuses) > 20 and set(statuses) == {200}, statuses[:20]
        found = httpx.get(f"{base}/search", params={"q": "participatory budget district 14", "limit": 20}).json()
        assert "written-14" in [r["id"] for r in found["results"]]
    finally:
        server.terminate()
        server.wait(30)
