"""Text of a PDF, page by page, extracted with pypdf in a worker process with time and memory limits.

A PDF can be encrypted, broken, scanned (no text layer), enormous or built to exhaust memory;
the worker lets one bad file fail alone, with a one-line reason, while the batch goes on.
"""

from __future__ import annotations

import multiprocessing
import re
from dataclasses import dataclass, field
from pathlib import Path

WORKER_MEMORY_BYTES = 3 * 1024**3
MIN_TEXT_CHARS_PER_PAGE = 20


class PdfRejected(Exception):
    """A PDF that cannot be ingested; the message is the one-line reason."""


@dataclass(frozen=True)
class PdfText:
    pages: list[str]
    metadata: dict[str, str] = field(default_factory=dict)

    def first_page_title(self) -> str | None:
        """A plausible title: the first line of page 1 that reads like one."""
        for page in self.pages[:2]:
            for line in page.splitlines():
                line = line.strip()
                if 8 <= len(line) <= 200 and sum(c.isalpha() for c in line) >= 0.5 * len(line):
                    return line
        return None


def _extract(path: str, max_pages: int) -> PdfText:
    """Runs in the worker process."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    data = Path(path).read_bytes()
    if not data.strip():
        raise PdfRejected("empty file")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise PdfRejected("not a PDF (no %PDF header)")
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:  # many "protected" PDFs only restrict printing and open with an empty password
                if not reader.decrypt(""):
                    raise PdfRejected("encrypted (a password is needed)")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise PdfRejected(f"encrypted ({exc})") from None
        count = len(reader.pages)
        if count == 0:
            raise PdfRejected("empty (no pages)")
        if count > max_pages:
            raise PdfRejected(f"too many pages ({count} > {max_pages})")
        pages = [_page_text(page) for page in reader.pages]
        metadata = _metadata(reader)
    except PdfRejected:
        raise
    except FileNotDecryptedError:
        raise PdfRejected("encrypted (a password is needed)") from None
    except DependencyError as exc:
        raise PdfRejected(f"encrypted with a method this installation cannot open ({exc})") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise PdfRejected(f"malformed PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    except MemoryError:
        raise PdfRejected("too much memory needed to read it (decompression bomb?)") from None
    if sum(len(p.strip()) for p in pages) < MIN_TEXT_CHARS_PER_PAGE * max(1, min(count, 3)) / 3:
        raise PdfRejected("no text layer (scanned or image-only PDF)")
    return PdfText(pages, metadata)


def _page_text(page) -> str:
    try:
        text = page.extract_text() or ""
    except Exception:  # noqa: BLE001 - one unreadable page must not lose the document
        return ""
    text = text.replace("\x00", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def _metadata(reader) -> dict[str, str]:
    try:
        meta = reader.metadata or {}
        out = {}
        for key in ("/Title", "/Author", "/CreationDate", "/Subject"):
            value = meta.get(key)
            if value:
                out[key.strip("/").lower()] = str(value).strip()
        return out
    except Exception:  # noqa: BLE001 - unreadable metadata is common and never fatal
        return {}


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))


class PdfExtractor:
    """Extracts PDFs one at a time in a worker process that is replaced after a timeout or crash."""

    def __init__(self, timeout_s: float = 120, max_pages: int = 2000):
        self.timeout_s = timeout_s
        self.max_pages = max_pages
        self._pool = None

    def _ensure_pool(self):
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = ctx.Pool(1, initializer=_limit_memory, maxtasksperchild=50)
        return self._pool

    def extract(self, path: Path) -> PdfText:
        pool = self._ensure_pool()
        job = pool.apply_async(_extract, (str(path), self.max_pages))
        try:
            return job.get(self.timeout_s)
        except multiprocessing.TimeoutError:
            self.close()
            raise PdfRejected(f"extraction took longer than {self.timeout_s:g} s") from None
        except PdfRejected:
            raise
        except MemoryError:
            self.close()
            raise PdfRejected("too much memory needed to read it (decompression bomb?)") from None
        except Exception as exc:  # noqa: BLE001 - the worker died or pypdf raised something odd
            self.close()
            raise PdfRejected(f"malformed PDF ({type(exc).__name__}: {str(exc)[:120]})") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> PdfExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
