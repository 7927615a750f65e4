"""PDFs: pages kept, sidecar metadata used, real outside PDFs ingested or rejected with a reason."""

from __future__ import annotations

from ingest.pdf import PdfExtractor
from ingest.pipeline import Parsed, parse_pdf
from ingest.readers import Rejection
from kb.settings import Settings
from tests.conftest import DATA, shared_path


def test_pdf_with_sidecar_keeps_page_numbers():
    with PdfExtractor() as pdfs:
        parsed = parse_pdf(DATA / "guide_espace_public.pdf", pdfs, Settings())
    assert isinstance(parsed, Parsed)
    record = parsed.record
    assert record.id == "guide-espace-public-egalitaire" and record.kind == "publication"
    assert record.sdgs == [5, 11] and record.language == "fr" and record.source_file == "guide_espace_public.pdf"
    assert [p for p, _ in parsed.pages] == [1, 2]
    pages = {c.page for c in parsed.chunks}
    assert pages == {1, 2}
    assert any("budget sensible au genre" in c.text and c.page == 2 for c in parsed.chunks)


def test_real_french_municipal_pdf_ingests_with_text():
    path = shared_path("pdfs", "pdfplumber-tests", "2023-06-20-PV.pdf")
    with PdfExtractor() as pdfs:
        parsed = parse_pdf(path, pdfs, Settings(), metadata={})
    assert isinstance(parsed, Parsed), parsed
    assert parsed.record.language == "fr"
    assert parsed.record.id == "pub-2023-06-20-pv"
    assert len(parsed.chunks) > 1 and all(c.page for c in parsed.chunks)


def test_encrypted_and_empty_pdfs_are_rejected_with_a_reason():
    cases = {
        ("pdfplumber-tests", "password-example.pdf"): "encrypted",
        ("pdfplumber-tests", "empty.pdf"): "empty",
    }
    with PdfExtractor() as pdfs:
        for parts, reason in cases.items():
            result = parse_pdf(shared_path("pdfs", *parts), pdfs, Settings(), metadata={})
            assert isinstance(result, Rejection), parts
            assert reason in result.reason, (parts, result.reason)


def test_a_file_that_is_not_a_pdf(tmp_path):
    fake = tmp_path / "report.pdf"
    fake.write_text("this is not a pdf")
    with PdfExtractor() as pdfs:
        result = parse_pdf(fake, pdfs, Settings(), metadata={})
    assert isinstance(result, Rejection) and "not a PDF" in result.reason
