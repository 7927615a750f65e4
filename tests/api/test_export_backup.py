"""Export and import round-trip losslessly; a backup opens as a working knowledge base."""

from __future__ import annotations

import io
import json

from api.service import KnowledgeBase
from kb.filters import Filters


def test_export_import_round_trip(loaded_kb, settings_factory, embedder, tmp_path):
    first = io.StringIO()
    assert loaded_kb.export(first) == 11
    path = tmp_path / "export.jsonl"
    path.write_text(first.getvalue())
    lines = [json.loads(line) for line in first.getvalue().splitlines()]
    guide = next(line for line in lines if line["record"]["id"] == "guide-espace-public-egalitaire")
    assert [n for n, _ in guide["pages"]] == [1, 2], "PDF page texts travel with the record"

    copy = KnowledgeBase(settings_factory(), embedder)
    report = copy.import_export(path)
    assert report.counts()["added"] == 11 and not report.rejected
    second = io.StringIO()
    copy.export(second)
    assert second.getvalue() == first.getvalue(), "records, timestamps and pages come back unchanged"
    hits = copy.search("budget sensible au genre", Filters(kind="publication"), limit=1).hits
    assert hits[0].page == 2
    copy.close()


def test_import_rejects_lines_that_are_not_exports(fresh_kb, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"record": {"title": "t"}}\nnot json\n')
    report = fresh_kb.import_export(path)
    reasons = [r.line() for r in report.rejected]
    assert len(reasons) == 2 and "line 1" in reasons[0] and "line 2" in reasons[1]


def test_backup_opens_as_a_knowledge_base(loaded_kb, embedder, tmp_path):
    loaded_kb.backup(tmp_path / "snapshot")
    settings = loaded_kb.settings.model_copy(update={"data_dir": tmp_path / "snapshot"})
    restored = KnowledgeBase(settings, embedder)
    assert restored.store.stats() == loaded_kb.store.stats()
    restored.open_index()
    assert len(restored.vectors) == restored.store.stats()["chunks"]
    assert restored.search("traffic deaths", Filters(), limit=1).hits[0].record.id == "nyc-vision-zero"
    restored.close()


def test_export_carries_review_decisions_and_audit_trail(loaded_kb, settings_factory, embedder, tmp_path):
    from kb.tags import TagDecision

    source = tmp_path / "first.jsonl"
    with source.open("w") as out:
        loaded_kb.export(out)
    curated = KnowledgeBase(settings_factory(), embedder)
    curated.import_export(source)
    pending = next(s for s in curated.store.suggestions("nyc-vision-zero") if s.status == "pending" and s.tag == "sdg")
    curated.decide_tags("nyc-vision-zero", TagDecision(reject=frozenset({pending.value}), note="not about it"), "curator-ana")
    decided = tmp_path / "decided.jsonl"
    with decided.open("w") as out:
        curated.export(out)
    line = next(json.loads(x) for x in decided.read_text().splitlines() if '"nyc-vision-zero"' in x[:200])
    assert {"action": "reject", "tag": "sdg", "value": pending.value, "actor": "curator-ana"}.items() <= line["tag_history"][0].items()
    assert any(s["value"] == pending.value and s["status"] == "rejected" and s["reviewed_by"] == "curator-ana" for s in line["suggestions"])

    restored = KnowledgeBase(settings_factory(), embedder)
    restored.import_export(decided)
    again = io.StringIO()
    restored.export(again)
    assert again.getvalue() == decided.read_text(), "suggestions, their status and the audit trail round-trip"
    curated.close()
    restored.close()
