"""Response shapes of the HTTP API (they also document it in /docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from index.search import Hit, SearchPage
from kb.records import Record


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str
    details: list[dict] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx response has this shape."""

    error: ErrorBody


class Result(BaseModel):
    id: str
    kind: str
    title: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]] = Field(default_factory=list, description="[start, end) offsets of query words in snippet")
    page: int | None = None
    city: str | None = None
    country: str | None = None
    region: str | None = None
    language: str | None = None
    year: int | None = None
    sdgs: list[int] = Field(default_factory=list)
    gender_perspective: bool = False
    topics: list[str] = Field(default_factory=list)
    url: str | None = None
    suggested_sdgs: list[int] = Field(default_factory=list, description="SDGs the tagger suggests (pending review, at or above the threshold)")
    suggested_gender_perspective: bool = Field(False, description="The tagger suggests a gender perspective (pending review)")
    matched_tags: dict[str, str] = Field(
        default_factory=dict,
        description='For SDG and gender filters: which kind of tag matched, e.g. {"sdg 5": "curated", "gender_perspective": "suggested"}',
    )

    @classmethod
    def from_hit(cls, hit: Hit) -> Result:
        r = hit.record
        return cls(
            id=r.id or "", kind=r.kind, title=r.title, score=hit.score, snippet=hit.snippet, highlights=hit.highlights, page=hit.page,
            city=r.city, country=r.country, region=r.region, language=r.language, year=r.year,
            sdgs=r.sdgs, gender_perspective=r.gender_perspective, topics=r.topics, url=r.url,
        )


class SearchResponse(BaseModel):
    query: str
    total: int = Field(description="Records that pass the filters; with a query they are all ranked.")
    limit: int
    offset: int
    results: list[Result]
    facets: dict[str, dict[str, int]]

    @classmethod
    def from_page(cls, page: SearchPage, limit: int, offset: int) -> SearchResponse:
        return cls(query=page.query, total=page.total, limit=limit, offset=offset,
                   results=[Result.from_hit(h) for h in page.hits], facets=page.facets)


class RelatedRequest(BaseModel):
    """A free text (a course description, a paragraph) and optional filters, for POST /related."""

    text: str = Field(..., min_length=1, max_length=100_000)
    kind: Literal["practice", "publication"] | None = None
    sdg: list[int | str] = Field(default_factory=list)
    gender: bool | None = None
    # the same bounds as GET /search's query parameters (api/app.py)
    lang: str | None = Field(None, min_length=2, max_length=2)
    country: str | None = Field(None, max_length=60)
    city: str | None = Field(None, max_length=200)
    region: str | None = Field(None, max_length=100)
    topic: str | None = Field(None, max_length=100)
    year_from: int | None = Field(None, ge=1800, le=2100)
    year_to: int | None = Field(None, ge=1800, le=2100)
    curated_only: bool = False
    limit: int = Field(10, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)


class SimilarResponse(BaseModel):
    id: str
    results: list[Result]


class RecordResponse(Record):
    created_at: str
    updated_at: str


class WriteResponse(BaseModel):
    status: str = Field(description="added, updated or unchanged")
    record: Record
    suggestions: list[StoredSuggestionOut] = Field(default_factory=list, description="The tagger's suggestions, with evidence")


class Health(BaseModel):
    status: str
    records: int
    chunks: int
    indexed_chunks: int
    model: str
    vector_index: dict[str, Any] = Field(
        default_factory=dict,
        description="kind (flat: exact; ivf: approximate beyond KB_IVF_FROM_CHUNKS), and for ivf nlist, nprobe "
        "and the recall@10 against exact search measured when it was built",
    )


class EvidenceOut(BaseModel):
    text: str = Field(description="A sentence that made the tagger suggest the tag")
    score: float
    page: int | None = Field(None, description="Page of the source PDF, when the text comes from one")


class SdgSuggestionOut(BaseModel):
    sdg: int
    score: float = Field(description="Calibrated probability that the text addresses this SDG")
    evidence: list[EvidenceOut]


class GenderSuggestionOut(BaseModel):
    value: bool = Field(description="score >= KB_SUGGESTION_THRESHOLD")
    score: float
    evidence: list[EvidenceOut]


class TagRequest(BaseModel):
    text: str = Field(..., min_length=1, max_length=2_000_000, description="The text to tag, in any language")


class TagResponse(BaseModel):
    """Suggestions for a text; nothing is stored."""

    sdgs: list[SdgSuggestionOut] = Field(description="SDGs scored at or above KB_SUGGESTION_MIN_SCORE, best first")
    gender_perspective: GenderSuggestionOut
    language: str | None
    threshold: float = Field(description="Suggestions at or above this score count as tags (KB_SUGGESTION_THRESHOLD)")


class StoredSuggestionOut(BaseModel):
    tag: Literal["sdg", "gender"]
    value: int = Field(description="The SDG (1-17); 1 for the gender perspective")
    score: float
    status: Literal["pending", "accepted", "rejected"]
    evidence: list[EvidenceOut]
    tagger: str
    created_at: str
    reviewed_by: str | None = None
    reviewed_at: str | None = None


class TagEventOut(BaseModel):
    action: str = Field(description="accept, reject, add or remove")
    tag: str
    value: int
    actor: str = Field(description="Name of the API key that made the change")
    at: str
    note: str | None = None


class CuratedTags(BaseModel):
    sdgs: list[int]
    gender_perspective: bool


class RecordTags(BaseModel):
    id: str
    title: str
    kind: str
    curated: CuratedTags
    suggestions: list[StoredSuggestionOut]
    history: list[TagEventOut] = Field(default_factory=list)


class ReviewQueue(BaseModel):
    total: int
    limit: int
    offset: int
    threshold: float
    records: list[RecordTags]


class TagDecisionRequest(BaseModel):
    """A curator's decision. `accept`/`reject` name suggested SDGs; `gender` accepts or rejects the suggested
    gender perspective; `sdgs` and `gender_perspective` set the curated tags outright (an edit)."""

    accept: list[int] = Field(default_factory=list)
    reject: list[int] = Field(default_factory=list)
    gender: Literal["accept", "reject"] | None = None
    sdgs: list[int] | None = None
    gender_perspective: bool | None = None
    note: str | None = Field(None, max_length=1000)


WriteResponse.model_rebuild()
