"""The `kb` command as a user runs it: a real process, real files, real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.conftest import DATA


def kb(*args: str, data_dir, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_help_is_instant(tmp_path):
    start = time.perf_counter()
    result = kb("--help", data_dir=tmp_path)
    assert result.returncode == 0 and "ingest" in result.stdout and "serve" in result.stdout
    assert time.perf_counter() - start < 20  # generous: only guards against importing torch at startup
    assert "torch" not in subprocess.run(
        [sys.executable, "-c", "import sys, api.cli; api.cli.parser(); print(' '.join(sys.modules))"],
        capture_output=True, text=True).stdout


def test_ingest_reports_counts_and_rejections_then_is_idempotent(tmp_path):
    first = kb("ingest", str(DATA), data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "added 11, updated 0, unchanged 0, rejected 7" in first.stdout
    assert "bad_records.json [record 2 (id bad-sdg)]: field sdgs: SDG 18 does not exist" in first.stdout
    assert "latin1.csv: not UTF-8" in first.stdout
    second = kb("ingest", str(DATA / "practices.json"), str(DATA / "practices.jsonl"), data_dir=tmp_path)
    assert "added 0, updated 0, unchanged 8, rejected 0 (0 chunks embedded)" in second.stdout

    changed = tmp_path / "changed.json"
    records = json.loads((DATA / "practices.json").read_text())
    records[0]["year"] = 2015
    changed.write_text(json.dumps(records[:1]))
    third = kb("ingest", str(changed), data_dir=tmp_path)
    assert "added 0, updated 1, unchanged 0" in third.stdout

    stats = json.loads(kb("stats", "--json", data_dir=tmp_path).stdout)
    assert stats["records"] == 11, "an updated record is not duplicated"
    assert any(r["source"].endswith("latin1.csv") for r in stats["rejected"])

    found = json.loads(kb("search", "traffic deaths", "--limit", "1", "--json", data_dir=tmp_path).stdout)
    assert found["results"][0]["id"] == "nyc-vision-zero" and found["results"][0]["year"] == 2015
    text = kb("search", "safety audits of public spaces led by women", "--lang", "fr", "--sdg", "5", "--gender",
              data_dir=tmp_path).stdout
    assert "Marches exploratoires" in text


def test_reindex_rebuilds_from_the_store(tmp_path):
    kb("ingest", str(DATA / "practices.json"), data_dir=tmp_path)
    (tmp_path / "index" / "chunks.faiss").unlink()
    result = kb("reindex", data_dir=tmp_path)
    assert result.returncode == 0 and "index rebuilt: 6 chunks" in result.stdout
