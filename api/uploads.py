"""A PDF upload streamed to a temporary file, counted as it arrives so an oversized one stops early."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from kb.errors import PayloadTooLarge


@contextmanager
def uploaded_pdf(file: UploadFile, max_mb: int) -> Iterator[Path]:
    """The upload as a .pdf file in a temporary folder (removed afterwards), keeping the uploaded name."""
    name = Path(file.filename or "upload.pdf").name
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / (name if name.lower().endswith(".pdf") else name + ".pdf")
        size = 0
        with open(target, "wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > max_mb * 1024 * 1024:
                    raise PayloadTooLarge(f"{name}: over {max_mb} MB")
                out.write(chunk)
        yield target
