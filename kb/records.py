"""The records of the collection: practices (what a city did) and publications (reports, guides)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SDG_RANGE = range(1, 18)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
TRUE_WORDS = {"true", "yes", "y", "1", "oui", "sí", "si", "sim", "x"}
FALSE_WORDS = {"false", "no", "n", "0", "non", ""}


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII slug of a title or file name: 'Manzanas del Cuidado' -> 'manzanas-del-cuidado'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "record"


def parse_sdg(value: Any) -> int:
    """1..17 from 5, '5', 'SDG 5', 'ODS 5', 'Goal 5'; anything else is an error naming the value."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an SDG number")
    if isinstance(value, int):
        number = value
    else:
        match = re.fullmatch(r"\s*(?:(?:sdg|ods|odd|goal|objetivo|objectif)\s*)?(\d{1,2})\s*", str(value), re.I)
        if not match:
            raise ValueError(f"{value!r} is not an SDG number")
        number = int(match.group(1))
    if number not in SDG_RANGE:
        raise ValueError(f"SDG {number} does not exist (goals are 1-17)")
    return number


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not true or false")


def _as_list(value: Any) -> list[Any]:
    """Lists may arrive as lists, or as ';'-separated cells (CSV)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


class Record(BaseModel):
    """A practice or a publication. `title` and one text (summary, description, abstract) are required."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str | None = Field(None, pattern=ID_PATTERN, description="Stable id; derived from kind, city and title when absent.")
    kind: Literal["practice", "publication"] = Field("practice", description="What the record is.")
    title: str = Field(..., min_length=1, max_length=500, description="Title in the record's language.")
    summary: str | None = Field(None, max_length=5000, description="Two to four sentences.")
    description: str | None = Field(None, max_length=200_000, description="Context, what was done, results, lessons.")
    abstract: str | None = Field(None, max_length=20_000, description="Abstract of a publication.")
    city: str | None = Field(None, max_length=200, description="City where the practice happened.")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code (a country name is converted).")
    region: str | None = Field(None, max_length=100, description="World region, e.g. 'Latin America and the Caribbean'.")
    year: int | None = Field(None, ge=1800, le=2100, description="Year the practice started or the publication appeared.")
    topics: list[str] = Field(default_factory=list, description="Themes, e.g. 'mobility', 'public space'.")
    sdgs: list[int] = Field(default_factory=list, description="Sustainable Development Goals addressed, 1-17.")
    gender_perspective: bool = Field(False, description="True when the record carries a gender perspective.")
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="ISO 639-1 code; detected when absent.")
    organisations: list[str] = Field(default_factory=list, description="Implementing or publishing bodies.")
    authors: list[str] = Field(default_factory=list, description="Authors of a publication.")
    url: str | None = Field(None, max_length=2000, description="Official page of the practice or the report.")
    source_file: str | None = Field(None, description="File the publication's text came from (set by ingest).")
    flags: list[str] = Field(default_factory=list, description="Set by ingest: 'mojibake-fixed', 'garbled-text'.")

    @field_validator("topics", "organisations", "authors", mode="before")
    @classmethod
    def _string_list(cls, value: Any) -> list[str]:
        items = [str(v).strip() for v in _as_list(value)]
        return [i for i in items if i]

    @field_validator("topics", mode="after")
    @classmethod
    def _topics_lower(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(t.lower() for t in value))

    @field_validator("sdgs", mode="before")
    @classmethod
    def _sdgs(cls, value: Any) -> list[int]:
        return sorted({parse_sdg(v) for v in _as_list(value)})

    @field_validator("gender_perspective", mode="before")
    @classmethod
    def _gender(cls, value: Any) -> bool:
        return False if value is None else parse_bool(value)

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if re.fullmatch(r"\d{4}(\.0)?", value):
                return int(float(value))
        return value

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        return country_code(str(value))

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        return str(value).strip().lower()[:2] if len(str(value).strip()) in (2, 5) else str(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^\s]+$", value):
            raise ValueError(f"{value!r} is not an http(s) address")
        return value

    @field_validator("summary", "description", "abstract", "city", "region", mode="after")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _needs_text(self) -> Record:
        if not (self.summary or self.description or self.abstract):
            raise ValueError("one of summary, description or abstract is required")
        return self

    def derived_id(self) -> str:
        """Deterministic id for records that arrive without one."""
        prefix = "pub" if self.kind == "publication" else slugify(self.city or "", 30)
        return f"{prefix}-{slugify(self.title, 50)}".strip("-")

    def text(self) -> str:
        """The record's searchable prose, in reading order."""
        parts = [self.summary, self.abstract, self.description]
        return "\n\n".join(p for p in parts if p)

    def content_hash(self) -> str:
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


def country_code(value: str) -> str:
    """'fr', 'FR', 'France', 'Brasil' -> ISO alpha-2; unknown names raise ValueError."""
    import pycountry

    text = value.strip()
    if re.fullmatch(r"[A-Za-z]{2}", text):
        code = text.upper()
        if pycountry.countries.get(alpha_2=code) is None and code not in {"XK"}:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return code
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        pass
    try:  # 'Brasil', 'Côte d'Ivoire', 'Korea, Republic of' and similar spellings
        matches = pycountry.countries.search_fuzzy(text) if len(text) > 3 else []
    except LookupError:
        matches = []
    if matches and hasattr(matches[0], "alpha_2"):
        return matches[0].alpha_2
    raise ValueError(f"{value!r} is not a country code or a known country name")


@dataclass(frozen=True)
class Chunk:
    """A piece of a record's text that is embedded and searched; `page` is 1-based for PDFs."""

    record_id: str
    ord: int
    text: str
    page: int | None = None
    language: str | None = None


def embedding_text(title: str, chunk_text: str) -> str:
    """What is embedded for a chunk: the record title gives each chunk its context."""
    return f"{title}\n{chunk_text}"


def practice_json_schema() -> dict[str, Any]:
    """The JSON Schema of an input record, as shipped in `kb/record.schema.json`."""
    schema = Record.model_json_schema()
    schema.get("properties", {}).pop("source_file", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "urbankb practice or publication record"
    schema["anyOf"] = [{"required": ["summary"]}, {"required": ["description"]}, {"required": ["abstract"]}]
    return schema
