"""The HTTP API: search with filters and facets, records, similar practices, writes behind an API key."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import KeyChecker
from api.schemas import ErrorResponse, Health, RecordResponse, RelatedRequest, SearchResponse, SimilarResponse, WriteResponse
from api.service import KnowledgeBase
from api.tag_routes import annotate_results, record_tags, tag_router
from kb.errors import BadRequest, KbError
from kb.filters import Filters
from kb.records import country_code, parse_sdg, practice_json_schema
from kb.settings import Settings

log = logging.getLogger(__name__)
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 500)
}


def error_response(status: int, code: str, message: str, details: list | None = None) -> JSONResponse:
    body = {"error": {"status": status, "code": code, "message": message, "details": details or []}}
    return JSONResponse(body, status_code=status)


PAGE_PREFIXES = ("/record/", "/staff", "/overview", "/embed")


def is_page(request: Request) -> bool:
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and (path == "/" or path.startswith(PAGE_PREFIXES))


def failure(request: Request, status: int, code: str, message: str, details: list | None = None) -> Response:
    """A person in a browser on a page gets an error page; everyone else the one JSON error shape."""
    if is_page(request):
        from api.web import error_page

        try:
            return error_page(request, status, message)
        except Exception:  # noqa: BLE001 - the error page itself failed: the JSON shape still says what happened
            log.exception("error page failed")
    return error_response(status, code, message, details)


def install_error_handlers(app: FastAPI) -> None:
    """One JSON error shape for every API failure (an error page for people on pages), never a stack trace."""

    @app.exception_handler(KbError)
    async def _kb_error(request: Request, exc: KbError) -> Response:
        return failure(request, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        message = "; ".join(f"{'.'.join(d['loc'][1:]) or d['loc'][0]}: {d['msg']}" for d in details)
        return failure(request, 422, "invalid_request", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return failure(request, exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return failure(request, 500, "internal_error", "internal error; the server log has the details")


def create_app(settings: Settings | None = None, kb: KnowledgeBase | None = None) -> FastAPI:
    settings = settings or Settings()
    kb = kb or KnowledgeBase(settings)
    keys = KeyChecker(settings, kb.store)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        kb.open_index()  # load the model and the saved index before the first request
        yield

    app = FastAPI(
        title="urbankb", version="0.1.0", lifespan=lifespan, responses=ERRORS,
        description="Multilingual search over urban practices and publications.",
    )
    app.state.kb = kb
    install_error_handlers(app)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # off unless configured: pages of other sites may not call the API by default
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["*"])
    max_body = settings.max_upload_mb * 1024 * 1024

    @app.middleware("http")
    async def refuse_huge_bodies(request: Request, call_next):
        """Refuse an announced oversized body before reading it (uploads stream past this check)."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            return error_response(413, "payload_too_large", f"request body over {settings.max_upload_mb} MB")
        return await call_next(request)

    def filters(
        kind: Literal["practice", "publication"] | None = None,
        sdg: Annotated[list[str] | None, Query(description="SDG 1-17; repeat for any of several")] = None,
        gender: Annotated[bool | None, Query(description="Only records with (true) or without (false) a gender perspective")] = None,
        lang: Annotated[str | None, Query(min_length=2, max_length=2, description="ISO 639-1 language of the record")] = None,
        country: Annotated[str | None, Query(max_length=60, description="ISO 3166-1 alpha-2 code or country name")] = None,
        city: Annotated[str | None, Query(max_length=200)] = None,
        region: Annotated[str | None, Query(max_length=100)] = None,
        topic: Annotated[str | None, Query(max_length=100)] = None,
        year_from: Annotated[int | None, Query(ge=1800, le=2100)] = None,
        year_to: Annotated[int | None, Query(ge=1800, le=2100)] = None,
        curated_only: Annotated[bool, Query(description="SDG and gender filters match curated tags only, not the tagger's suggestions")] = False,
    ) -> Filters:
        try:
            sdgs = frozenset(parse_sdg(s) for s in sdg or [])
            code = country_code(country) if country else None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return Filters(kind=kind, sdgs=sdgs, gender=gender, language=lang.lower() if lang else None,
                       country=code, city=city, region=region, topic=topic, year_from=year_from, year_to=year_to,
                       curated_only=curated_only, threshold=settings.suggestion_threshold)

    def api_key(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        presented = request.headers.get("x-api-key") or (auth[7:] if auth.lower().startswith("bearer ") else None)
        return keys.check(presented)

    # Defaults, not annotations: with postponed annotations FastAPI cannot see local variables.
    query_q = Query("", max_length=settings.max_query_chars, description="Words or a question, in any language")
    related_q = Query(..., min_length=1, max_length=settings.max_query_chars, description="A free text, e.g. a course description")
    limit_q = Query(10, ge=1, le=settings.max_limit)
    offset_q = Query(0, ge=0, le=10_000)

    def written(status: str, record) -> WriteResponse:
        stored = kb.get(record.id)  # curated tags edited by staff win over the submitted ones
        return WriteResponse(status=status, record=stored.record, suggestions=record_tags(kb, record.id, history=False).suggestions)

    def annotated(response: SearchResponse, f: Filters) -> SearchResponse:
        annotate_results(kb, response.results, f)
        return response

    app.include_router(tag_router(kb, api_key))

    from fastapi.staticfiles import StaticFiles

    from api.staff import staff_router
    from api.web import web_router

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(web_router(kb, filters))
    app.include_router(staff_router(kb, keys))

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        stats = kb.store.stats()
        return Health(status="ok", records=stats["records"], chunks=stats["chunks"],
                      indexed_chunks=len(kb.vectors), model=kb.embedder.model_id,
                      vector_index={k: v for k, v in asdict(kb.vectors.layout).items() if v or k == "kind"})

    @app.get("/search", response_model=SearchResponse)
    def search(
        q: str = query_q, f: Filters = Depends(filters), limit: int = limit_q, offset: int = offset_q,
    ) -> SearchResponse:
        return annotated(SearchResponse.from_page(kb.search(q, f, limit, offset), limit, offset), f)

    @app.get("/related", response_model=SearchResponse)
    def related(
        text: str = related_q, f: Filters = Depends(filters), limit: int = limit_q, offset: int = offset_q,
    ) -> SearchResponse:
        """Practices and publications related to a free text, e.g. a course description."""
        return annotated(SearchResponse.from_page(kb.related(text, f, limit, offset), limit, offset), f)

    @app.post("/related", response_model=SearchResponse)
    def related_long(body: RelatedRequest) -> SearchResponse:
        """The same for a long text sent as JSON, with the filters in the body."""
        fields = body.model_dump()
        text, limit, offset = fields.pop("text"), fields.pop("limit"), fields.pop("offset")
        if limit > settings.max_limit:
            raise BadRequest(f"limit {limit} is over the maximum of {settings.max_limit}")
        f = filters(**{k: v for k, v in fields.items() if k != "sdg"}, sdg=[str(s) for s in body.sdg])
        return annotated(SearchResponse.from_page(kb.related(text, f, limit, offset), limit, offset), f)

    @app.get("/records/{record_id}", response_model=RecordResponse)
    def get_record(record_id: str) -> RecordResponse:
        stored = kb.get(record_id)
        return RecordResponse(**stored.record.model_dump(), created_at=stored.created_at, updated_at=stored.updated_at)

    @app.get("/records/{record_id}/similar", response_model=SimilarResponse)
    def similar(record_id: str, f: Filters = Depends(filters), limit: int = limit_q,
                same_city: Annotated[bool, Query(description="Also list practices of the same city (after the others)")] = False) -> SimilarResponse:
        from api.schemas import Result

        hits = kb.similar(record_id, f, limit, same_city)
        return SimilarResponse(id=record_id, results=annotate_results(kb, [Result.from_hit(h) for h in hits], f))

    @app.post("/records", response_model=WriteResponse, status_code=201, dependencies=[Depends(api_key)])
    def put_record(response: Response, data: Annotated[dict[str, Any], Body(description="A practice or publication record")]) -> WriteResponse:
        status, record = kb.put_record(data)
        response.status_code = 201 if status == "added" else 200
        return written(status, record)

    @app.post("/publications", response_model=WriteResponse, status_code=201, dependencies=[Depends(api_key)])
    def upload_publication(
        response: Response,
        file: Annotated[UploadFile, File(description="The PDF")],
        metadata: Annotated[str | None, Form(description="Optional JSON object: any record field (id, title, authors, year, sdgs, ...)")] = None,
    ) -> WriteResponse:
        """Upload a PDF as a publication: text per page, metadata from the form, the PDF or its first page."""
        import json

        from api.uploads import uploaded_pdf

        try:
            fields = json.loads(metadata) if metadata else {}
        except json.JSONDecodeError as exc:
            raise BadRequest(f"metadata is not valid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(fields, dict):
            raise BadRequest("metadata must be a JSON object")
        with uploaded_pdf(file, settings.max_upload_mb) as target:
            status, record = kb.add_pdf(target, fields)
        response.status_code = 201 if status == "added" else 200
        return written(status, record)

    @app.get("/files/{record_id}.pdf", include_in_schema=True)
    def source_pdf(record_id: str):
        """The PDF a publication was extracted from."""
        from fastapi.responses import FileResponse

        from kb.errors import NotFound

        path = settings.data_dir / "files" / f"{record_id}.pdf"
        if "/" in record_id or not path.is_file():
            raise NotFound(f"no PDF for record {record_id!r}")
        return FileResponse(path, media_type="application/pdf")

    @app.delete("/records/{record_id}", status_code=204, dependencies=[Depends(api_key)])
    def delete_record(record_id: str) -> Response:
        kb.delete_record(record_id)
        return Response(status_code=204)

    @app.get("/schema/record")
    def record_schema() -> dict:
        """The JSON Schema of an input record (practice or publication)."""
        return practice_json_schema()

    @app.get("/stats")
    def stats() -> dict:
        return kb.store.stats()

    return app
