"""Server-rendered pages: search, record, overview, the embeddable widget and a feed of a saved search.

Every page is plain HTML from Jinja2 templates with one small CSS file; nothing is fetched from another
site. The interface language comes from `?ui=`, then a cookie, then the browser's Accept-Language.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from api.schemas import Result
from api.service import KnowledgeBase
from api.tag_routes import annotate_results
from api.ui_text import LANGUAGES, SDG_COLOURS, pick_language, sdg_names, translate
from kb.filters import Filters

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 10
FILTER_PARAMS = ("kind", "sdg", "gender", "lang", "country", "city", "region", "topic", "year_from", "year_to", "curated_only")


@cache
def templates():
    from fastapi.templating import Jinja2Templates

    env = Jinja2Templates(directory=str(TEMPLATES))
    env.env.filters["highlight"] = highlight
    env.env.globals.update(SDG_COLOURS=SDG_COLOURS, LANGUAGES=LANGUAGES)
    return env


def render_page(name: str, request: Request, ui: str, status: int = 200, **values) -> HTMLResponse:
    response = templates().TemplateResponse(request, name, page_context(request, ui, **values), status_code=status)
    if request.query_params.get("ui") in LANGUAGES:  # the switcher's choice sticks
        response.set_cookie("kb_ui", ui, max_age=365 * 86400, samesite="lax")
    return response


def highlight(snippet: str, spans) -> Markup:
    """The snippet, escaped, with the query's words in <mark>."""
    out, last = [], 0
    for start, end in sorted(spans or []):
        if start < last:
            continue
        out += [escape(snippet[last:start]), Markup("<mark>"), escape(snippet[start:end]), Markup("</mark>")]
        last = end
    out.append(escape(snippet[last:]))
    return Markup("").join(out)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    ui = pick_language(request.query_params.get("ui"), request.cookies.get("kb_ui"), request.headers.get("accept-language"))
    return render_page("error.html", request, ui, status=status, status_code=status, message=message)


def ui_language(request: Request, ui: str | None = Query(None, description="Interface language: en, fr or es")) -> str:
    return pick_language(ui, request.cookies.get("kb_ui"), request.headers.get("accept-language"))


def page_context(request: Request, ui: str, **values) -> dict:
    """What every template gets: the language, a translator, SDG names, and this URL in other languages."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "ui"]
    switch = {lang: str(request.url.path) + "?" + urlencode([*params, ("ui", lang)]) for lang in LANGUAGES}
    return {"request": request, "ui": ui, "t": lambda key, **kw: translate(key, ui, **kw), "sdg_name": sdg_names()[ui],
            "switch": switch, **values}


def search_url(params: list[tuple[str, str]], **changes) -> str:
    """This search with some parameters changed (None removes one); for facet links and paging."""
    kept = [(k, v) for k, v in params if k not in changes and k != "offset"]
    for key, value in changes.items():
        if isinstance(value, list):
            kept += [(key, str(v)) for v in value]
        elif value is not None:
            kept.append((key, str(value)))
    return "/?" + urlencode(kept) if kept else "/"


def web_router(kb: KnowledgeBase, filters: Callable[..., Filters]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    render = render_page

    def results_for(q: str, f: Filters, limit: int, offset: int):
        page = kb.search(q, f, limit, offset)
        results = annotate_results(kb, [Result.from_hit(h) for h in page.hits], f)
        return page, results

    @router.get("/", response_class=HTMLResponse)
    def search_page(request: Request, q: str = Query("", max_length=kb.settings.max_query_chars), f: Filters = Depends(filters),
                    offset: int = Query(0, ge=0, le=10_000), ui: str = Depends(ui_language)) -> HTMLResponse:
        page, results = results_for(q, f, PAGE_SIZE, offset)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "ui"]
        return render("search.html", request, ui, q=q, f=f, page=page, results=results, offset=offset, size=PAGE_SIZE,
                      params=params, url=lambda **changes: search_url(params, **changes),
                      sdg_link=lambda n: search_url(params, sdg=sorted(f.sdgs ^ {n})),
                      active=[k for k, _ in params if k in FILTER_PARAMS])

    @router.get("/record/{record_id}", response_class=HTMLResponse)
    def record_page(request: Request, record_id: str, ui: str = Depends(ui_language)) -> HTMLResponse:
        stored = kb.get(record_id)
        record = stored.record
        everything = Filters(threshold=kb.settings.suggestion_threshold)
        similar = annotate_results(kb, [Result.from_hit(h) for h in kb.similar(record_id, everything, 6)], everything)
        pages_text = kb.store.pages(record_id)
        has_pdf = (kb.settings.data_dir / "files" / f"{record_id}.pdf").is_file()
        suggestions = [s for s in kb.store.suggestions(record_id) if s.status == "pending" and s.score >= kb.settings.suggestion_threshold]
        return render("record.html", request, ui, r=record, stored=stored, similar=similar, pages=pages_text, has_pdf=has_pdf,
                      suggestions=suggestions, citation=citation(record, str(request.base_url).rstrip("/")))

    @router.get("/overview", response_class=HTMLResponse)
    def overview(request: Request, ui: str = Depends(ui_language)) -> HTMLResponse:
        from api.charts import overview_charts

        return render("overview.html", request, ui, charts=overview_charts(kb.store, ui), stats=kb.store.stats())

    @router.get("/embed", response_class=HTMLResponse)
    def embed(request: Request, q: str = Query("", max_length=kb.settings.max_query_chars), f: Filters = Depends(filters),
              limit: int = Query(5, ge=1, le=20), ui: str = Depends(ui_language)) -> HTMLResponse:
        """The widget's content, for an iframe on a course page: links open the record pages in a new tab."""
        page, results = results_for(q, f, limit, 0)
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("ui", "limit")]
        response = render("embed.html", request, ui, q=q, results=results, total=page.total, more=search_url(params))
        response.headers["Content-Security-Policy"] = "frame-ancestors *"  # meant to be framed by other sites
        return response

    @router.get("/embed/example", response_class=HTMLResponse)
    def embed_example(request: Request, ui: str = Depends(ui_language)) -> HTMLResponse:
        return render("embed_example.html", request, ui, base=str(request.base_url).rstrip("/"))

    @router.get("/feed.atom")
    def feed(request: Request, q: str = Query("", max_length=kb.settings.max_query_chars), f: Filters = Depends(filters)) -> Response:
        """Atom feed of a saved search: its matching records, newest first (the 50 best when there is a query)."""
        records = feed_records(kb, q, f)
        base = str(request.base_url).rstrip("/")
        params = [(k, v) for k, v in request.query_params.multi_items()]
        body = templates().get_template("feed.atom").render(records=records, base=base, q=q, self_url=str(request.url),
                                                      search_url=base + search_url(params), sdg_name=sdg_names()["en"])
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    return router


def feed_records(kb: KnowledgeBase, q: str, f: Filters) -> list:
    if q.strip():
        hits = kb.search(q, f, 50, 0).hits
        ids = [h.record.id for h in hits]
    else:
        ids = kb.store.record_ids(f, order="r.created_at DESC, r.id")[:50]
    found = {i: kb.get(i) for i in ids}
    return sorted(found.values(), key=lambda s: (s.created_at, s.record.id or ""), reverse=True)


def citation(record, base: str) -> str:
    """A citation line: authors or organisations, year, title, kind and city, and the permalink."""
    who = ", ".join(record.authors or record.organisations or ([record.city] if record.city else []))
    place = ", ".join(x for x in (record.city, record.country) if x)
    parts = [who + (f" ({record.year})" if record.year else "") if who else str(record.year or ""), record.title,
             place if record.kind == "practice" else "", f"{base}/record/{record.id}"]
    return ". ".join(p for p in parts if p) + "."
