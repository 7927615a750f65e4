"""Every PDF of the outside test tree either ingests with text or is rejected with a one-line reason."""

from __future__ import annotations

import time

from ingest.pdf import PdfExtractor
from ingest.pipeline import Parsed, parse_pdf
from ingest.readers import Rejection
from kb.settings import Settings
from tests.conftest import shared_path

PER_FILE_SECONDS = 60


def test_whole_pdf_tree_ingests_or_is_rejected_with_a_reason():
    root = shared_path("pdfs")
    pdfs = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".pdf")
    assert len(pdfs) > 50
    settings = Settings(pdf_timeout_s=PER_FILE_SECONDS)
    outcomes: dict[str, str] = {}
    with PdfExtractor(settings.pdf_timeout_s, settings.max_pdf_pages) as extractor:
        for path in pdfs:
            start = time.perf_counter()
            result = parse_pdf(path, extractor, settings, metadata={})
            elapsed = time.perf_counter() - start
            assert elapsed < PER_FILE_SECONDS + 10, (path.name, elapsed)
            if isinstance(result, Parsed):
                assert result.chunks and all(c.text.strip() for c in result.chunks), path.name
                assert all(c.page for c in result.chunks), "every chunk of a PDF knows its page"
                outcomes[path.name] = "ingested"
            else:
                assert isinstance(result, Rejection)
                assert result.reason and "\n" not in result.reason and len(result.reason) < 300, (path.name, result.reason)
                outcomes[path.name] = result.reason
    ingested = [n for n, o in outcomes.items() if o == "ingested"]
    assert len(ingested) > len(pdfs) / 2, outcomes
    assert "encrypted" in outcomes["password-example.pdf"]
    assert outcomes["empty.pdf"].startswith("empty")
    assert outcomes["chelsea_pdta.pdf"] == "ingested", "the 65-page French transport plan has a text layer"
