"""PDF ingest throughput (pages/s) and its ratio to raw model encoding of the same chunk texts.

    python bench/ingest_pdfs.py                       # every PDF under ../shared/data/pdfs
    python bench/ingest_pdfs.py --pdfs some/folder

The folder is ingested through the product (`KnowledgeBase.ingest`: extraction in a child process with
a time limit, chunking, language detection, embedding, tagging with evidence, store, index) into a
fresh data folder, after the model and the tagger are loaded. Then the chunk texts the product
embedded are encoded again with the bare model (`model.encode`, batch 32) in the same process, and
the PDF extraction alone is timed. Broken and encrypted PDFs count as rejected files, not pages.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(os.environ.get("KB_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdfs", type=Path, default=SHARED / "pdfs")
    args = parser.parse_args()
    if not args.pdfs.is_dir():
        raise SystemExit(f"{args.pdfs} is absent (see ../shared/data/README.md)")

    from api.service import KnowledgeBase
    from ingest.pdf import PdfExtractor, PdfRejected
    from kb.filters import Filters
    from kb.settings import Settings

    kb = KnowledgeBase(Settings(data_dir=Path(tempfile.mkdtemp(prefix="kb-pdf-bench-")) / "data"))
    kb.open_index()
    assert kb.tagger is not None  # loaded before the clock starts, as in a running server
    files = sorted(args.pdfs.rglob("*.pdf"))

    t0 = time.perf_counter()
    report = kb.ingest([args.pdfs])
    ingest_s = time.perf_counter() - t0
    record_ids = kb.store.record_ids(Filters())
    pages = sum(len(kb.store.pages(rid)) for rid in record_ids)
    chunk_ids = kb.store.all_chunk_ids()
    texts = [text for _, text, _ in kb.store.chunk_texts_for_embedding(chunk_ids)]

    t0 = time.perf_counter()
    kb.embedder.model.encode(texts, prompt_name="passage", batch_size=32, normalize_embeddings=True)
    encode_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    extracted = 0
    with PdfExtractor(kb.settings.pdf_timeout_s, kb.settings.max_pdf_pages) as pdfs:
        for path in files:
            try:
                extracted += len(pdfs.extract(path).pages)
            except PdfRejected:
                pass
    extract_s = time.perf_counter() - t0

    print(f"{len(files)} PDF files: {report.added} publications ({pages} pages, {len(chunk_ids)} chunks), "
          f"{len(report.rejected)} rejected")
    print(f"ingest through the product: {ingest_s:.1f} s = {pages / ingest_s:.2f} pages/s, {report.added / ingest_s:.2f} documents/s")
    print(f"raw model encoding of the same {len(texts)} chunk texts: {encode_s:.1f} s "
          f"(ingest is {ingest_s / encode_s:.2f}x raw encoding, {(ingest_s / encode_s - 1) * 100:+.0f}%)")
    print(f"PDF text extraction alone: {extract_s:.1f} s for {extracted} pages")


if __name__ == "__main__":
    main()
