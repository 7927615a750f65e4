"""Staff pages: sign in with an API key, add a PDF or a record, review suggested tags with their evidence."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import KeyChecker
from api.service import KnowledgeBase
from api.web import render_page, ui_language
from kb.errors import BadRequest, KbError
from kb.records import parse_sdg
from kb.tags import TagDecision

COOKIE = "kb_key"


def staff_router(kb: KnowledgeBase, keys: KeyChecker) -> APIRouter:
    router = APIRouter(prefix="/staff", include_in_schema=False)
    settings = kb.settings

    def holder(request: Request) -> str | None:
        try:
            return keys.check(request.cookies.get(COOKIE))
        except KbError:
            return None

    def login_page(request: Request, ui: str, error: str | None = None, status: int = 200) -> HTMLResponse:
        return render_page("staff_login.html", request, ui, status=status, error=error)

    @router.get("", response_class=HTMLResponse)
    def queue(request: Request, offset: int = Query(0, ge=0, le=1_000_000), ui: str = Depends(ui_language)) -> HTMLResponse:
        who = holder(request)
        if who is None:
            return login_page(request, ui)
        total, ids = kb.store.review_queue(settings.suggestion_threshold, 50, max(offset, 0))
        records = [(kb.get(i).record, kb.store.suggestions(i)) for i in ids]
        return render_page("staff_queue.html", request, ui, who=who, total=total, records=records, threshold=settings.suggestion_threshold)

    @router.post("/login")
    def login(request: Request, key: str = Form(...), ui: str = Depends(ui_language)) -> Response:
        try:
            keys.check(key.strip())
        except KbError:
            return login_page(request, ui, error="bad_key", status=403)
        response = RedirectResponse("/staff", status_code=303)
        response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict", max_age=8 * 3600)
        return response

    @router.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @router.get("/record/{record_id}", response_class=HTMLResponse)
    def record_tags(request: Request, record_id: str, ui: str = Depends(ui_language)) -> HTMLResponse:
        who = holder(request)
        if who is None:
            return login_page(request, ui)
        record = kb.get(record_id).record
        return render_page("staff_record.html", request, ui, who=who, r=record, suggestions=kb.store.suggestions(record_id),
                           history=kb.store.tag_events(record_id), threshold=settings.suggestion_threshold)

    @router.post("/record/{record_id}/tags")
    async def decide(request: Request, record_id: str, ui: str = Depends(ui_language)) -> Response:
        who = holder(request)
        if who is None:
            return login_page(request, ui, status=401)
        form = await request.form()
        kb.decide_tags(record_id, decision_from_form(form), who)
        return RedirectResponse(f"/staff/record/{record_id}", status_code=303)

    @router.post("/upload")
    def upload(request: Request, file: UploadFile | None = File(None), record_json: str = Form(""), ui: str = Depends(ui_language)) -> Response:
        if holder(request) is None:
            return login_page(request, ui, status=401)
        if file is not None and file.filename:
            record_id = _store_pdf(kb, file)
        elif record_json.strip():
            try:
                data = json.loads(record_json)
            except json.JSONDecodeError as exc:
                raise BadRequest(f"record is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
            if not isinstance(data, dict):
                raise BadRequest("the record must be a JSON object")
            record_id = kb.put_record(data)[1].id
        else:
            raise BadRequest("choose a PDF file or paste a record")
        return RedirectResponse(f"/staff/record/{record_id}", status_code=303)

    return router


def decision_from_form(form) -> TagDecision:
    """Buttons post action=accept|reject with tag and value; the edit form posts action=edit with sdg boxes."""
    action, tag = form.get("action"), form.get("tag")
    try:
        if action == "edit":
            sdgs = frozenset(parse_sdg(v) for v in form.getlist("sdg"))
            return TagDecision(sdgs=sdgs, gender=form.get("gender_perspective") == "on", note=form.get("note") or None)
        if action in ("accept", "reject") and tag == "gender":
            return TagDecision(accept_gender=action == "accept")
        if action in ("accept", "reject") and tag == "sdg":
            value = frozenset({parse_sdg(form.get("value"))})
            return TagDecision(accept=value) if action == "accept" else TagDecision(reject=value)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    raise BadRequest("unknown action")


def _store_pdf(kb: KnowledgeBase, file: UploadFile) -> str:
    from api.uploads import uploaded_pdf

    with uploaded_pdf(file, kb.settings.max_upload_mb) as target:
        return kb.add_pdf(target, {})[1].id
