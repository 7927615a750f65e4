from __future__ import annotations

from ingest.pipeline import validate
from ingest.text_quality import garbled_share, repair


def test_mojibake_is_repaired_and_the_record_flagged():
    record = validate({"title": "El nÃºmero de niÃ±as en la escuela", "summary": "Programa para las niÃ±as."})
    assert record.title == "El número de niñas en la escuela" and record.summary == "Programa para las niñas."
    assert record.flags == ["mojibake-fixed"] and record.language == "es"


def test_sound_text_is_left_alone():
    text = "L’été “à Paris” — ﬁn."
    assert repair(text) == (text, False), "curly quotes and ligatures are not mojibake"
    assert validate({"title": "Vision Zero", "summary": text}).flags == []


def test_garbled_share():
    assert garbled_share("A normal sentence about public space.") == 0.0
    assert garbled_share("12 345 67,8 % 90") == 0.0, "tables of figures are readable"
    assert garbled_share("(cid:12)(cid:13)(cid:14)(cid:15)") == 1.0
    assert garbled_share("\ue000\ue001\ue002\ue003 ab") > 0.5
