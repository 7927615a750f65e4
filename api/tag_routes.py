"""Tagging over HTTP: suggestions for a text, the staff review queue, and curators' decisions (with a key)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from fastapi import APIRouter, Depends, Query

from api.schemas import (
    CuratedTags,
    EvidenceOut,
    GenderSuggestionOut,
    RecordTags,
    Result,
    ReviewQueue,
    SdgSuggestionOut,
    StoredSuggestionOut,
    TagDecisionRequest,
    TagEventOut,
    TagRequest,
    TagResponse,
)
from api.service import KnowledgeBase
from kb.errors import BadRequest
from kb.filters import Filters
from kb.records import parse_sdg
from kb.tags import StoredSuggestion, TagDecision


def tag_response(report, language: str | None, threshold: float) -> TagResponse:
    def evidence(items) -> list[EvidenceOut]:
        return [EvidenceOut(**asdict(e)) for e in items]

    return TagResponse(
        sdgs=[SdgSuggestionOut(sdg=s.value, score=s.score, evidence=evidence(s.evidence)) for s in report.sdgs],
        gender_perspective=GenderSuggestionOut(value=report.gender_value, score=report.gender.score, evidence=evidence(report.gender.evidence)),
        language=language, threshold=threshold,
    )


def record_tags(kb: KnowledgeBase, record_id: str, history: bool = True) -> RecordTags:
    record = kb.get(record_id).record
    return RecordTags(
        id=record_id, title=record.title, kind=record.kind,
        curated=CuratedTags(sdgs=record.sdgs, gender_perspective=record.gender_perspective),
        suggestions=[_suggestion_out(s) for s in kb.store.suggestions(record_id)],
        history=[TagEventOut(**asdict(e)) for e in kb.store.tag_events(record_id)] if history else [],
    )


def _suggestion_out(s: StoredSuggestion) -> StoredSuggestionOut:
    return StoredSuggestionOut(tag=s.tag, value=s.value, score=s.score, status=s.status, evidence=[EvidenceOut(**e) for e in s.evidence],
                               tagger=s.tagger, created_at=s.created_at, reviewed_by=s.reviewed_by, reviewed_at=s.reviewed_at)


def annotate_results(kb: KnowledgeBase, results: list[Result], filters: Filters) -> list[Result]:
    """Add each result's pending suggestions and, for SDG and gender filters, which kind of tag matched."""
    found = kb.store.suggestions_for([r.id for r in results])
    for result in results:
        pending = [s for s in found[result.id] if s.status == "pending" and s.score >= filters.threshold]
        result.suggested_sdgs = sorted(s.value for s in pending if s.tag == "sdg")
        result.suggested_gender_perspective = any(s.tag == "gender" for s in pending)
        for sdg in sorted(filters.sdgs):
            if sdg in result.sdgs:
                result.matched_tags[f"sdg {sdg}"] = "curated"
            elif sdg in result.suggested_sdgs and not filters.curated_only:
                result.matched_tags[f"sdg {sdg}"] = "suggested"
        if filters.gender:
            result.matched_tags["gender_perspective"] = "curated" if result.gender_perspective else "suggested"
    return results


def tag_router(kb: KnowledgeBase, api_key: Callable[..., str]) -> APIRouter:
    router = APIRouter(tags=["tagging"])
    settings = kb.settings

    @router.post("/tag", response_model=TagResponse)
    def tag(body: TagRequest) -> TagResponse:
        """SDG and gender-perspective suggestions for a text, with evidence sentences; nothing is stored."""
        report, language = kb.tag_text(body.text)
        return tag_response(report, language, settings.suggestion_threshold)

    @router.get("/review", response_model=ReviewQueue)
    def review(limit: int = Query(20, ge=1, le=settings.max_limit), offset: int = Query(0, ge=0, le=1_000_000)) -> ReviewQueue:
        """Records with suggestions awaiting a curator: those without curated SDGs first, then the newest."""
        total, ids = kb.store.review_queue(settings.suggestion_threshold, limit, offset)
        return ReviewQueue(total=total, limit=limit, offset=offset, threshold=settings.suggestion_threshold,
                           records=[record_tags(kb, i, history=False) for i in ids])

    @router.get("/records/{record_id}/tags", response_model=RecordTags)
    def get_tags(record_id: str) -> RecordTags:
        """Curated tags, every suggestion with its status and evidence, and the audit trail."""
        return record_tags(kb, record_id)

    @router.post("/records/{record_id}/tags", response_model=RecordTags)
    def decide(record_id: str, body: TagDecisionRequest, actor: str = Depends(api_key)) -> RecordTags:
        """Accept, reject or edit the tags of a record; each change is logged with the key's name and the time."""
        try:
            decision = TagDecision(
                accept=frozenset(parse_sdg(s) for s in body.accept), reject=frozenset(parse_sdg(s) for s in body.reject),
                accept_gender=None if body.gender is None else body.gender == "accept",
                sdgs=None if body.sdgs is None else frozenset(parse_sdg(s) for s in body.sdgs),
                gender=body.gender_perspective, note=body.note,
            )
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        if decision.accept & decision.reject:
            raise BadRequest(f"SDG {min(decision.accept & decision.reject)} is both accepted and rejected")
        if decision == TagDecision(note=body.note):
            raise BadRequest("nothing to decide: give accept, reject, gender, sdgs or gender_perspective")
        kb.decide_tags(record_id, decision, actor)
        return record_tags(kb, record_id)

    return router
