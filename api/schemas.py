"""Response shapes of the HTTP API (they also document it in /docs)."""

from __future__ import annotations

from typing import Literal

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
    lang: str | None = None
    country: str | None = None
    city: str | None = None
    region: str | None = None
    topic: str | None = None
    year_from: int | None = None
    year_to: int | None = None
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


class Health(BaseModel):
    status: str
    records: int
    chunks: int
    indexed_chunks: int
    model: str
