from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from kb.records import Record, parse_sdg, practice_json_schema, slugify


def test_minimal_practice_needs_title_and_text():
    record = Record(title="Ciclovía", summary="Sundays without cars.")
    assert record.kind == "practice" and record.sdgs == [] and record.gender_perspective is False
    with pytest.raises(ValidationError, match="one of summary, description or abstract"):
        Record(title="Only a title")
    with pytest.raises(ValidationError, match="title"):
        Record(summary="Only a summary")


@pytest.mark.parametrize("value, expected", [(5, 5), ("11", 11), ("SDG 5", 5), ("ODS 13", 13), ("goal 1", 1)])
def test_sdg_spellings(value, expected):
    assert parse_sdg(value) == expected


@pytest.mark.parametrize("value", [0, 18, "SDG 99", "five", True])
def test_unknown_sdg_is_refused_with_the_value(value):
    with pytest.raises(ValueError, match=str(value) if not isinstance(value, bool) else "True"):
        parse_sdg(value)


def test_csv_style_cells_become_lists_and_booleans():
    record = Record(title="t", summary="s", topics="Mobility; Public space", sdgs="5;11", gender_perspective="yes",
                    organisations="City hall;NGO", country="france", year="2014")
    assert record.topics == ["mobility", "public space"]
    assert record.sdgs == [5, 11] and record.gender_perspective is True
    assert record.organisations == ["City hall", "NGO"] and record.country == "FR" and record.year == 2014


def test_country_names_and_codes():
    assert Record(title="t", summary="s", country="co").country == "CO"
    assert Record(title="t", summary="s", country="Brazil").country == "BR"
    with pytest.raises(ValidationError, match="Atlantis"):
        Record(title="t", summary="s", country="Atlantis")


def test_derived_id_is_deterministic_and_readable():
    a = Record(title="Manzanas del Cuidado", summary="x", city="Bogotá")
    b = Record(title="Manzanas del Cuidado", summary="other text", city="Bogotá")
    assert a.derived_id() == b.derived_id() == "bogota-manzanas-del-cuidado"
    assert slugify("  São Paulo: Casa da Mulher!  ") == "sao-paulo-casa-da-mulher"


def test_content_hash_changes_with_content_only():
    a = Record(id="x", title="t", summary="s")
    assert a.content_hash() == Record(id="x", title="t", summary="s").content_hash()
    assert a.content_hash() != Record(id="x", title="t", summary="s2").content_hash()


def test_shipped_schema_file_is_the_current_schema():
    shipped = Path(__file__).parents[2] / "kb" / "record.schema.json"
    assert json.loads(shipped.read_text()) == practice_json_schema(), "run: kb schema > kb/record.schema.json"
