"""A `kb ingest` killed with SIGKILL at random points loses nothing that was committed and leaves
nothing half-present: after a restart every stored record is whole and searchable."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

from api.service import KnowledgeBase
from kb.filters import Filters

TOPICS = ["bus lanes", "parks", "social housing", "waste collection", "street lighting", "flood defence"]


def batch_file(path, n: int) -> None:
    rng = random.Random(5)
    lines = []
    for i in range(n):
        topic = rng.choice(TOPICS)
        sentences = " ".join(f"Step {k} of the {topic} programme in district {i} was evaluated." for k in range(rng.randint(5, 40)))
        lines.append(json.dumps({"id": f"crash-{i}", "title": f"{topic.title()} programme {i}", "summary": sentences, "language": "en"}))
    path.write_text("\n".join(lines))


def committed(db) -> int:
    """Records committed so far, read by another connection (0 before the store exists)."""
    import sqlite3

    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_sigkill_mid_ingest_keeps_store_and_index_consistent(tmp_path, settings_factory, embedder, tagger):
    source = tmp_path / "many.jsonl"
    batch_file(source, 400)
    settings = settings_factory()
    env = {**os.environ, "KB_DATA_DIR": str(settings.data_dir), "HF_HUB_OFFLINE": "1"}
    rng = random.Random(11)
    seen_counts = [0]
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "ingest", str(source)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill at a random moment once this run has committed something (however slow the machine is):
        # somewhere inside the embedding, tagging, commit or index save of a later batch.
        deadline = time.monotonic() + 300
        while committed(settings.db_path) <= seen_counts[-1] and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(rng.uniform(0, 6))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kb = KnowledgeBase(settings, embedder)
        stored = kb.store.stats()["records"]
        seen_counts.append(stored)
        for record in kb.store.iter_records():  # whole records only: each has its chunks
            assert kb.store.record_chunk_ids(record.id), record.id
        kb.close()
    assert seen_counts == sorted(seen_counts) and seen_counts[-1] > 0, "a later run never loses what an earlier one committed"

    kb = KnowledgeBase(settings, embedder)
    kb.open_index()  # repairs the gap between the last committed batch and the last saved index
    assert len(kb.vectors) == kb.store.stats()["chunks"]
    assert set(kb.vectors.ids().tolist()) == set(kb.store.all_chunk_ids())
    last = max(kb.store.record_ids(Filters()), key=lambda rid: int(rid.split("-")[1]))
    title = kb.store.get(last).record.title
    assert kb.search(title, Filters(), limit=3).hits[0].record.title.split()[0] == title.split()[0]
    kb.close()
