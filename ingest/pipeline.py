"""From paths to validated records with their chunks: the whole ingest step, without storing anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ingest.chunking import chunk_text
from ingest.language import detect_language
from ingest.pdf import PdfExtractor, PdfRejected, PdfText
from ingest.readers import RawRecord, Rejection, decode_text, find_inputs, read_records
from ingest.text_quality import GARBLED_FLAG, GARBLED_REJECT, garbled_share, repair
from kb.records import Chunk, Record, slugify
from kb.settings import Settings


@dataclass(frozen=True)
class Parsed:
    """A valid record, its chunks and (for PDFs) its pages, ready to store."""

    record: Record
    chunks: list[Chunk]
    source: str
    where: str
    pages: list[tuple[int, str]] = field(default_factory=list)


def explain(error: ValidationError) -> str:
    """'field sdgs: SDG 18 does not exist (goals are 1-17); field title: required' in one line."""
    parts = []
    for item in error.errors():
        location = ".".join(str(p) for p in item["loc"] if not isinstance(p, int)) or "record"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "required"
        parts.append(f"field {location}: {message}" if location != "record" else message)
    return "; ".join(parts)


def validate(data: dict[str, Any]) -> Record:
    """A complete record: validated, language detected when absent, id derived when absent."""
    record = Record.model_validate(data)
    updates: dict[str, Any] = {}
    for name in ("title", "summary", "description", "abstract"):
        value = getattr(record, name)
        fixed, changed = repair(value) if value else (value, False)
        if changed:
            updates[name] = fixed
            updates["flags"] = sorted({*record.flags, "mojibake-fixed"})
    if not record.language:
        updates["language"] = detect_language(f"{record.title}. {record.text()}")
    if not record.id:
        updates["id"] = record.derived_id()
    return record.model_copy(update=updates) if updates else record


def practice_chunks(record: Record, settings: Settings) -> list[Chunk]:
    texts = chunk_text(record.text(), settings.chunk_words, settings.chunk_overlap) or [record.title]
    return [Chunk(record.id or "", n, t, None, record.language) for n, t in enumerate(texts)]


def pdf_chunks(record: Record, pdf: PdfText, settings: Settings, with_abstract: bool) -> list[Chunk]:
    """Abstract first (when the metadata gives one), then each page's text with its page number and language."""
    chunks: list[Chunk] = []
    if with_abstract:
        for text in chunk_text(record.text(), settings.chunk_words, settings.chunk_overlap):
            chunks.append(Chunk(record.id or "", len(chunks), text, None, record.language))
    for number, page in enumerate(pdf.pages, 1):
        for text in chunk_text(page, settings.chunk_words, settings.chunk_overlap):
            language = detect_language(text) or record.language
            chunks.append(Chunk(record.id or "", len(chunks), text, number, language))
    return chunks


def parse_paths(paths: list[Path], settings: Settings) -> Iterator[Parsed | Rejection]:
    """Every record found under `paths`, or a rejection naming file, record and reason."""
    limit = settings.max_upload_mb * 1024 * 1024
    with PdfExtractor(settings.pdf_timeout_s, settings.max_pdf_pages) as pdfs:
        for item in find_inputs(paths):
            if isinstance(item, Rejection):
                yield item
                continue
            size = item.stat().st_size
            if size > limit:
                yield Rejection(str(item), "", f"too large ({size / 1e6:.1f} MB > {settings.max_upload_mb} MB)")
            elif item.suffix.lower() == ".pdf":
                yield parse_pdf(item, pdfs, settings)
            else:
                yield from parse_record_file(item, item.read_bytes(), settings)


def parse_record_file(path: Path, data: bytes, settings: Settings) -> Iterator[Parsed | Rejection]:
    """Every record of a JSON, JSONL or CSV file; a file with none at all is reported, not skipped silently."""
    found = False
    for raw in read_records(path, data):
        found = True
        if isinstance(raw, Rejection):
            yield raw
        else:
            yield parse_raw(raw, settings)
    if not found:
        yield Rejection(str(path), "", "no records in the file (empty list, blank lines or a header without rows)")


def parse_raw(raw: RawRecord, settings: Settings) -> Parsed | Rejection:
    try:
        record = validate(raw.data)
    except ValidationError as exc:
        return Rejection(raw.source, raw.where, explain(exc))
    return Parsed(record, practice_chunks(record, settings), raw.source, raw.where)


def parse_pdf(path: Path, pdfs: PdfExtractor, settings: Settings, metadata: dict[str, Any] | None = None) -> Parsed | Rejection:
    """A publication from a PDF, with metadata from `metadata`, a sidecar NAME.json, the PDF, its first page."""
    source = str(path)
    try:
        meta = dict(metadata) if metadata is not None else read_sidecar(path)
    except ValueError as exc:
        return Rejection(source, "sidecar", str(exc))
    try:
        pdf = pdfs.extract(path)
    except PdfRejected as exc:
        return Rejection(source, "", str(exc))
    pdf, flags = clean_pages(pdf)
    if "unreadable" in flags:
        return Rejection(source, "", "garbled text (fonts without a Unicode map?); nothing readable to index")
    meta["flags"] = sorted({*meta.get("flags", []), *flags})
    meta.setdefault("kind", "publication")
    meta.setdefault("id", "pub-" + slugify(path.stem, 60))
    meta.setdefault("title", pdf.metadata.get("title") or pdf.first_page_title() or path.stem)
    if "authors" not in meta and pdf.metadata.get("author"):
        meta["authors"] = [a.strip() for a in pdf.metadata["author"].replace(";", ",").split(",")]
    if "year" not in meta and pdf.metadata.get("creationdate", "")[2:6].isdigit():
        meta["year"] = int(pdf.metadata["creationdate"][2:6])
    body = "\n\n".join(pdf.pages)
    meta.setdefault("language", detect_language(body[:20000]))
    has_abstract = any(meta.get(k) for k in ("summary", "description", "abstract"))
    if not has_abstract:  # the opening words stand in as a summary; the pages are the searchable text
        meta["summary"] = " ".join(body.split()[:80])
    meta["source_file"] = path.name
    try:
        record = validate(meta)
    except ValidationError as exc:
        return Rejection(source, "metadata", explain(exc))
    pages = list(enumerate(pdf.pages, 1))
    return Parsed(record, pdf_chunks(record, pdf, settings, has_abstract), source, "", pages)


def clean_pages(pdf: PdfText) -> tuple[PdfText, set[str]]:
    """Repair mojibake page by page and measure what stays unreadable."""
    flags: set[str] = set()
    pages = []
    for page in pdf.pages:
        fixed, changed = repair(page)
        if changed:
            flags.add("mojibake-fixed")
        pages.append(fixed)
    body = "".join(pages)
    share = garbled_share(body)
    if share > GARBLED_REJECT:
        flags.add("unreadable")
    elif share > GARBLED_FLAG:
        flags.add("garbled-text")
    return PdfText(pages, pdf.metadata), flags


def read_sidecar(pdf_path: Path) -> dict[str, Any]:
    sidecar = pdf_path.with_suffix(".json")
    if not sidecar.exists():
        return {}
    try:
        doc = json.loads(decode_text(sidecar.read_bytes(), str(sidecar)))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{sidecar.name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{sidecar.name}: expected a JSON object")
    return doc
