"""Each input format, and bad input rejected with file, record and reason while good records land."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import Parsed, parse_paths
from ingest.readers import Rejection
from kb.settings import Settings
from tests.conftest import DATA


def parse(*paths: Path, **settings) -> tuple[list[Parsed], list[Rejection]]:
    items = list(parse_paths(list(paths), Settings(**settings)))
    return [i for i in items if isinstance(i, Parsed)], [i for i in items if isinstance(i, Rejection)]


def test_json_list_of_practices():
    parsed, rejected = parse(DATA / "practices.json")
    assert rejected == []
    assert [p.record.id for p in parsed][:2] == ["nyc-vision-zero", "copenhagen-cloudburst-plan"]
    vienna = next(p for p in parsed if p.record.id == "vienna-gender-mainstreaming")
    assert vienna.record.gender_perspective and vienna.record.sdgs == [5, 11] and vienna.record.country == "AT"
    assert all(c.text and c.record_id == p.record.id for p in parsed for c in p.chunks)


def test_jsonl_detects_missing_language():
    parsed, _ = parse(DATA / "practices.jsonl")
    ciclovia = next(p.record for p in parsed if p.record.id == "bogota-ciclovia")
    assert ciclovia.language == "es", "language is detected when the record does not give it"


def test_csv_lists_are_semicolon_separated():
    parsed, rejected = parse(DATA / "practices.csv")
    assert rejected == []
    (record,) = [p.record for p in parsed]
    assert record.topics == ["public space", "safety", "gender equality"]
    assert record.sdgs == [5, 11] and record.gender_perspective is True and record.city == "Montréal"


def test_bad_records_are_rejected_with_reasons_and_good_ones_land():
    parsed, rejected = parse(DATA / "bad_records.json")
    assert [p.record.id for p in parsed] == ["good-one"]
    reasons = {r.where: r.reason for r in rejected}
    assert all(r.source.endswith("bad_records.json") for r in rejected)
    assert "SDG 18 does not exist" in reasons["record 2 (id bad-sdg)"]
    assert "title" in reasons["record 3 (id no-title)"] and "required" in reasons["record 3 (id no-title)"]
    assert "summary, description or abstract" in reasons["record 4 (id no-text)"]
    assert "Atlantis" in reasons["record 5 (id bad-country)"]
    assert "expected a JSON object" in reasons["record 6"]


def test_broken_json_and_wrong_encoding_name_the_file():
    _, rejected = parse(DATA / "broken.json", DATA / "latin1.csv")
    lines = [r.line() for r in rejected]
    assert any("broken.json" in line and "invalid JSON at line 1" in line for line in lines)
    assert any("latin1.csv" in line and "not UTF-8" in line for line in lines)


def test_unsupported_extension_and_missing_path(tmp_path):
    note = tmp_path / "notes.docx"
    note.write_bytes(b"PK")
    _, rejected = parse(note, tmp_path / "nowhere.json")
    assert rejected[0].reason == "Unsupported file extension: .docx"
    assert rejected[1].reason == "no such file or folder"


def test_too_large_file_is_refused(tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_text('{"title": "t", "summary": "' + "x" * 1_100_000 + '"}\n')
    _, rejected = parse(big, max_upload_mb=1)
    assert "too large" in rejected[0].reason


def test_folder_walk_skips_sidecars_and_other_files():
    parsed, rejected = parse(DATA)
    ids = {p.record.id for p in parsed}
    assert "guide-espace-public-egalitaire" in ids, "the PDF is ingested with its sidecar metadata"
    assert not any("guide_espace_public.json" in r.source for r in rejected), "a sidecar is not a record file"
    assert not any(r.source.endswith((".py", ".md")) for r in rejected), "other files in a folder are skipped"
