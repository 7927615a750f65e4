"""The tagger: its shipped calibration is current, scores are probabilities, evidence comes from the text."""

from __future__ import annotations

import json

from index.tag_model import CALIBRATION, data_digest
from index.tagger import Passage


def test_shipped_benchmark_calibration_matches_the_tagger_data(embedder):
    saved = json.loads(CALIBRATION.read_text())
    assert saved["tagger_data"] == data_digest(), "reference data changed: run python bench/tagging.py --write-calibration"
    assert saved["embedding_model"] == embedder.model_id and len(saved["goal_bias"]) == 17


def test_long_report_with_one_gender_chapter_is_tagged_with_its_page(tagger):
    filler = ("The municipal bus network was reorganised around twelve trunk lines with higher frequencies, "
              "new timetables and a single ticket valid for ninety minutes across buses and trams. ") * 3
    chapter = ("Women and girls reported sexual harassment at bus stops after dark. The city ran safety audits "
               "with women's groups and added lighting and request stops at night to end gender-based violence in transport.")
    passages = [Passage(filler, page) for page in range(1, 6)] + [Passage(chapter, 6)]
    report = tagger.tag(passages)
    assert tagger.calibrated_on_benchmark
    assert report.gender_value and report.gender.score >= 0.5
    assert report.gender.evidence[0].page == 6 and report.gender.evidence[0].text in chapter
    assert 11 in [s.value for s in report.sdgs if s.score >= 0.5]
    assert all(0 <= s.score <= 1 for s in report.sdgs)


def test_empty_text_has_no_suggestions(tagger):
    report = tagger.tag([Passage("   ")])
    assert report.sdgs == [] and not report.gender_value and report.gender.score == 0.0


def test_a_query_is_encoded_like_a_batch_on_one_thread_and_the_thread_limit_comes_back():
    from index.tagger import UseEncoder

    use = UseEncoder.shared()
    threads = use._model._model.threads
    text = "auditorías de seguridad de mujeres en el espacio público"
    single, batch = use.encode_query(text), use.encode([text, "bus rapid transit"])[0]
    assert single.shape == (512,) and float(single @ batch) > 0.999
    assert use._model._model.threads == threads
