"""Read input files into raw record dicts, each with where it came from; bad parts become rejections."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUPPORTED = {".json", ".jsonl", ".csv", ".pdf"}


@dataclass(frozen=True)
class RawRecord:
    """One record as read from a file, before validation. `where` names it inside the file."""

    source: str
    where: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Rejection:
    """An input that did not land, and why: file, record (or '') and a one-line reason."""

    source: str
    where: str
    reason: str

    def line(self) -> str:
        place = f"{self.source} [{self.where}]" if self.where else self.source
        return f"{place}: {self.reason}"


def find_inputs(paths: list[Path]) -> Iterator[Path | Rejection]:
    """Files to read, in a stable order. Folders are walked; a PDF's sidecar JSON is not a record file."""
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
            for file in files:
                if file.suffix.lower() in SUPPORTED and not is_sidecar(file):
                    yield file
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED:
                yield Rejection(str(path), "", f"Unsupported file extension: {path.suffix or '(none)'}")
            elif not is_sidecar(path):
                yield path
        else:
            yield Rejection(str(path), "", "no such file or folder")


def _hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in file.relative_to(root).parts)


def is_sidecar(path: Path) -> bool:
    """`NAME.json` next to `NAME.pdf` holds the PDF's metadata."""
    return path.suffix.lower() == ".json" and any(
        path.with_suffix(s).exists() for s in (".pdf", ".PDF")
    )


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM); anything else is refused with a reason rather than guessed."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save {Path(source).name} as UTF-8"
        ) from None


def read_records(path: Path, data: bytes) -> Iterator[RawRecord | Rejection]:
    """The records of a .json, .jsonl or .csv file given its bytes."""
    source = str(path)
    try:
        text = decode_text(data, source)
    except ValueError as exc:
        yield Rejection(source, "", str(exc))
        return
    suffix = path.suffix.lower()
    if suffix == ".json":
        yield from _read_json(source, text)
    elif suffix == ".jsonl":
        yield from _read_jsonl(source, text)
    elif suffix == ".csv":
        yield from _read_csv(source, text)
    else:
        yield Rejection(source, "", f"Unsupported file extension: {path.suffix}")


def _read_json(source: str, text: str) -> Iterator[RawRecord | Rejection]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Rejection(source, "", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        return
    if isinstance(doc, dict) and isinstance(doc.get("records"), list):
        doc = doc["records"]
    items = doc if isinstance(doc, list) else [doc]
    for number, item in enumerate(items, 1):
        where = f"record {number}"
        if isinstance(item, dict):
            yield RawRecord(source, _named(where, item), item)
        else:
            yield Rejection(source, where, f"expected a JSON object, got {type(item).__name__}")


def _read_jsonl(source: str, text: str) -> Iterator[RawRecord | Rejection]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejection(source, where, f"invalid JSON at column {exc.colno}: {exc.msg}")
            continue
        if isinstance(item, dict):
            yield RawRecord(source, _named(where, item), item)
        else:
            yield Rejection(source, where, f"expected a JSON object, got {type(item).__name__}")


def _read_csv(source: str, text: str) -> Iterator[RawRecord | Rejection]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        yield Rejection(source, "", "empty CSV (no header row)")
        return
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames]
    try:
        for row in reader:
            where = f"row {reader.line_num}"
            if None in row:
                yield Rejection(source, where, f"more cells than the {len(reader.fieldnames)} header columns")
                continue
            item = {k: v for k, v in row.items() if k and v is not None and v.strip() != ""}
            if item:
                yield RawRecord(source, _named(where, item), item)
    except csv.Error as exc:
        yield Rejection(source, f"row {reader.line_num}", f"unreadable CSV: {exc}")


def _named(where: str, item: dict[str, Any]) -> str:
    """'record 3 (id bogota-ciclovia)': the position plus the id when there is one."""
    record_id = item.get("id")
    return f"{where} (id {record_id})" if isinstance(record_id, (str, int)) and str(record_id) else where
