"""The knowledge base as one object: store, model and index composed, for the HTTP API and the CLI."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from ingest.pipeline import Parsed, explain, parse_paths, practice_chunks, validate
from ingest.readers import Rejection
from kb.errors import InvalidRecord
from kb.filters import Filters
from kb.records import Chunk, Record, embedding_text
from kb.settings import Settings
from kb.store import Store, StoredRecord

log = logging.getLogger(__name__)
BATCH_RECORDS = 64
# During a long ingest the index file is rewritten at most this often (and at the end): rewriting it
# after every batch costs more than the batch at 100k chunks. A crash in between loses no record: the
# store has committed them, and opening the index re-embeds only the chunks it lacks (index/sync.py).
INDEX_SAVE_EVERY_S = 30.0


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": len(self.rejected), "chunks": self.chunks}


def passages_of(chunks: list[Chunk]):
    from index.tagger import Passage

    return [Passage(c.text, c.page) for c in chunks]


class KnowledgeBase:
    """Opens the store at once; the model and the index only when a search or an ingest needs them."""

    def __init__(self, settings: Settings, embedder=None):
        self.settings = settings
        self.store = Store(settings.db_path)
        self._embedder = embedder  # tests share one loaded model between knowledge bases
        self._vectors = None
        self._use_vectors = None  # index/use_vectors.py, opened with the vectors
        self._searcher = None
        self._tagger = None
        self._open_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._index_saved_at = time.monotonic()
        self._index_dirty = False  # vectors changed since the index file was written

    # --- lazily opened parts -----------------------------------------------------------------
    @property
    def embedder(self):
        with self._open_lock:
            return self._embedder_unlocked()

    def _embedder_unlocked(self):
        if self._embedder is None:
            from index.embedder import Embedder

            self._embedder = Embedder(self.settings)
        return self._embedder

    @property
    def tagger(self):
        with self._open_lock:
            if self._tagger is None:
                from index.tagger import Tagger

                self._tagger = Tagger(self._embedder_unlocked(), self.settings.model_cache_dir, self.settings.suggestion_min_score,
                                      self.settings.suggestion_threshold, self.settings.threads)
            return self._tagger

    @property
    def vectors(self):
        if self._vectors is None:
            self.open_index()
        return self._vectors

    @property
    def searcher(self):
        if self._searcher is None:
            from index.search import Searcher

            self._searcher = Searcher(self.store, self.vectors, self.embedder, self._use_vectors, self.use_encoder)
        return self._searcher

    @property
    def use_encoder(self):
        from index.tagger import UseEncoder

        return UseEncoder.shared(self.settings.threads)

    def open_index(self, progress: Callable[[int], None] | None = None) -> None:
        """Load the saved index (no re-embedding) and repair any gap with the store."""
        from index.sync import sync_index
        from index.vectors import VectorIndex

        embedder = self.embedder
        with self._write_lock:
            if self._vectors is not None:
                return
            vectors = VectorIndex.load(self.settings.index_dir, embedder.model_id, self.settings.ivf_from_chunks)
            fresh = vectors is None
            if fresh:
                vectors = VectorIndex(embedder.model_id, embedder.dim, self.settings.ivf_from_chunks)
            report = sync_index(self.store, vectors, embedder, progress)
            if fresh or report.embedded or report.removed or report.rebuilt:
                log.info("index repaired: %d chunks embedded, %d stale vectors removed", report.embedded, report.removed)
                vectors.save(self.settings.index_dir)
            self._open_use_vectors()
            self._vectors = vectors
        self.tag_untagged()

    def _open_use_vectors(self) -> None:
        """The USE vectors beside the index, completed from the store (the caller holds the write lock)."""
        from index.sync import sync_use_vectors
        from index.use_vectors import ChunkUseVectors

        use_vectors = ChunkUseVectors.load(self.settings.index_dir)
        if sync_use_vectors(self.store, use_vectors, self.use_encoder):
            use_vectors.save(self.settings.index_dir)
        self._use_vectors = use_vectors

    def close(self) -> None:
        self.store.close()

    # --- writing -------------------------------------------------------------------------------
    def ingest(self, paths: list[Path], progress: Callable[[str, int], None] | None = None) -> IngestReport:
        """Ingest files and folders: batches of records commit together, then join the index."""
        report = IngestReport()
        batch: list[Parsed] = []
        try:
            for item in parse_paths(paths, self.settings):
                if progress:
                    progress("records", 1)
                if isinstance(item, Rejection):
                    report.rejected.append(item)
                    if not item.where:
                        self.store.note_rejection(item.source, None, item.reason)
                    continue
                batch.append(item)
                if len(batch) >= BATCH_RECORDS:
                    self._store_batch(batch, report, progress)
                    batch = []
            self._store_batch(batch, report, progress)
        finally:
            self._flush_index()
        return report

    def _flush_index(self) -> None:
        """Write the index if vectors changed since it was last written."""
        with self._write_lock:
            if self._index_dirty:
                self._write_index()

    def _write_index(self) -> None:  # the caller holds the write lock
        self._vectors.save(self.settings.index_dir)
        self._use_vectors.save(self.settings.index_dir)
        self._index_saved_at, self._index_dirty = time.monotonic(), False

    def _store_batch(self, batch: list[Parsed], report: IngestReport, progress) -> None:
        """Embed and tag the changed records, commit them with their suggestions, then add their vectors."""
        if not batch:
            return
        from index.sync import settle
        from index.use_vectors import DIM as USE_DIM

        vectors, tagger = self.vectors, self.tagger
        with self._write_lock:
            changed = [p for p in batch if not self.store.is_unchanged(p.record)]
            texts = [embedding_text(p.record.title, c.text) for p in changed for c in p.chunks]
            embedded = self.embedder.encode_passages(texts, progress=(lambda n: progress("chunks", n)) if progress else None)
            tags, rows, start = {}, {}, 0
            use = np.zeros((len(texts), USE_DIM), np.float32)  # the tagger's USE vectors, rows as in `embedded`
            for parsed in changed:
                rows[parsed.record.id] = (start, start + len(parsed.chunks))
                part = embedded[start : start + len(parsed.chunks)]
                tagged = tagger.tag(passages_of(parsed.chunks), part)
                tags[parsed.record.id] = tagged.suggestions(self.settings.suggestion_min_score)
                use[start : start + len(parsed.chunks)] = tagged.use_vectors
                start += len(parsed.chunks)
            removed: list[int] = []
            added: list[tuple[int, int, str]] = []  # chunk id, row in `embedded`, language
            with self.store.transaction():
                for parsed in batch:
                    record = parsed.record
                    result = self.store.upsert(record, parsed.chunks, parsed.pages, tags.get(record.id), tagger.version if record.id in tags else None)
                    setattr(report, result.status, getattr(report, result.status) + 1)
                    removed += result.removed_chunk_ids
                    if result.added_chunk_ids:
                        first = rows[record.id][0]
                        added += [(cid, first + i, c.language or record.language or "und")
                                  for i, (cid, c) in enumerate(zip(result.added_chunk_ids, parsed.chunks, strict=True))]
            report.chunks += len(added)
            vectors.remove(removed)
            vectors.add([a[0] for a in added], embedded[[a[1] for a in added]], [a[2] for a in added])
            self._use_vectors.remove(removed)
            self._use_vectors.add([a[0] for a in added], use[[a[1] for a in added]])
            settle(self.store, vectors)
            if removed or added:
                self._index_dirty = True
                if time.monotonic() - self._index_saved_at >= INDEX_SAVE_EVERY_S:
                    self._write_index()

    def put_record(self, data: dict[str, Any]) -> tuple[str, Record]:
        """Add or update one record given as JSON; returns (added|updated|unchanged, record)."""
        try:
            record = validate(data)
        except ValidationError as exc:
            raise InvalidRecord(explain(exc), [dict(loc=list(e["loc"]), msg=e["msg"]) for e in exc.errors()]) from None
        return self._store_one(Parsed(record, practice_chunks(record, self.settings), "api", "")), record

    def _store_one(self, parsed: Parsed) -> str:
        """Store one record now; returns added, updated or unchanged."""
        report = IngestReport()
        self._store_batch([parsed], report, None)
        self._flush_index()
        return "added" if report.added else "updated" if report.updated else "unchanged"

    def add_pdf(self, path: Path, metadata: dict[str, Any]) -> tuple[str, Record]:
        """A publication from an uploaded PDF (kept under data_dir/files); metadata fields win over the PDF's."""
        import shutil

        from ingest.pdf import PdfExtractor
        from ingest.pipeline import parse_pdf

        with PdfExtractor(self.settings.pdf_timeout_s, self.settings.max_pdf_pages) as pdfs:
            parsed = parse_pdf(path, pdfs, self.settings, metadata)
        if isinstance(parsed, Rejection):
            raise InvalidRecord(f"{Path(parsed.source).name}: {parsed.reason}")
        files = self.settings.data_dir / "files"
        files.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, files / f"{parsed.record.id}.pdf")
        return self._store_one(parsed), parsed.record

    # --- tags ----------------------------------------------------------------------------------------
    def tag_untagged(self) -> int:
        """Suggest tags for records the current tagger has not seen (an older store, a new tagger version)."""
        tagger = self.tagger
        ids = self.store.untagged_record_ids(tagger.version)
        if ids:
            log.info("suggesting tags for %d records", len(ids))
        for record_id in ids:
            record = self.store.get(record_id).record
            rows = self.store.chunks(self.store.record_chunk_ids(record_id))
            chunks = [Chunk(record_id, r["ord"], r["text"], r["page"]) for r in sorted(rows.values(), key=lambda r: r["ord"])]
            vectors = self.embedder.encode_passages([embedding_text(record.title, c.text) for c in chunks])
            report = tagger.tag(passages_of(chunks), vectors)
            self.store.set_suggestions(record_id, tagger.version, report.suggestions(self.settings.suggestion_min_score))
        return len(ids)

    def tag_text(self, text: str, pages: list[tuple[int, str]] | None = None):
        """Suggestions for a text (or the pages of a PDF) without storing anything: (report, language)."""
        from index.tagger import Passage
        from ingest.chunking import chunk_text
        from ingest.language import detect_language
        from ingest.text_quality import repair

        size, overlap = self.settings.chunk_words, self.settings.chunk_overlap
        passages = []
        for number, page in pages or [(None, text)]:
            page = repair(page)[0]
            passages += [Passage(c, number) for c in chunk_text(page, size, overlap)]
        whole = " ".join(p.text for p in passages)
        return self.tagger.tag(passages), detect_language(whole)

    def tag_file(self, path: Path):
        """Suggestions for a PDF (with pages) or a UTF-8 text file; nothing is stored."""
        if path.suffix.lower() == ".pdf":
            from ingest.pdf import PdfExtractor, PdfRejected

            try:
                with PdfExtractor(self.settings.pdf_timeout_s, self.settings.max_pdf_pages) as pdfs:
                    result = pdfs.extract(path)
            except PdfRejected as exc:
                raise InvalidRecord(f"{path.name}: {exc}") from None
            return self.tag_text("", list(enumerate(result.pages, 1)))
        try:
            return self.tag_text(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidRecord(f"{path.name}: not UTF-8 text (byte {exc.object[exc.start]:#x} at offset {exc.start})") from None

    def decide_tags(self, record_id: str, decision, actor: str) -> None:
        with self._write_lock:
            self.store.decide_tags(record_id, decision, actor)

    def delete_record(self, record_id: str) -> None:
        vectors = self.vectors
        with self._write_lock:
            removed = self.store.delete(record_id)
            vectors.remove(removed)
            self._use_vectors.remove(removed)
            vectors.fit_layout()
            self._write_index()

    def reindex(self, progress: Callable[[int], None] | None = None) -> int:
        """Re-embed every chunk of the store into a new index (e.g. after changing KB_MODEL)."""
        from index.sync import embed_chunks, settle
        from index.vectors import VectorIndex

        embedder = self.embedder
        with self._write_lock:
            vectors = VectorIndex(embedder.model_id, embedder.dim, self.settings.ivf_from_chunks)
            embed_chunks(self.store, vectors, embedder, self.store.all_chunk_ids(), progress)
            settle(self.store, vectors)
            self._vectors, self._searcher = vectors, None
            if self._use_vectors is None:
                self._open_use_vectors()
            self._write_index()
        return len(vectors)

    # --- export, import, backup ------------------------------------------------------------------
    def export(self, target) -> int:
        """Write every record as one JSON line, with its timestamps, (for PDFs) its page texts, the tagger's
        suggestions with their review status, and the audit trail of curators' decisions."""
        count = 0
        for record in self.store.iter_records():
            stored = self.store.get(record.id or "")
            line = {"record": record.model_dump(mode="json", exclude_none=True),
                    "created_at": stored.created_at, "updated_at": stored.updated_at}
            pages = self.store.pages(record.id or "")
            if pages:
                line["pages"] = [[number, text] for number, text in pages]
            line["suggestions"] = [asdict(s) for s in self.store.suggestions(record.id or "")]
            line["tag_history"] = [asdict(e) for e in self.store.tag_events(record.id or "")]
            target.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
        return count

    def import_export(self, path: Path) -> IngestReport:
        """Load a file written by `export`: records, page texts, timestamps, suggestions and the audit trail
        come back as they were."""
        from ingest.pdf import PdfText
        from ingest.pipeline import pdf_chunks

        report = IngestReport()
        parsed, times, tags = [], {}, {}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                record = validate(item["record"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                report.rejected.append(Rejection(str(path), f"line {number}", f"not an export line: {exc}"))
                continue
            except ValidationError as exc:
                report.rejected.append(Rejection(str(path), f"line {number}", explain(exc)))
                continue
            pages = [(int(n), t) for n, t in item.get("pages", [])]
            if pages:
                chunks = pdf_chunks(record, PdfText([t for _, t in pages]), self.settings, bool(record.abstract))
            else:
                chunks = practice_chunks(record, self.settings)
            parsed.append(Parsed(record, chunks, str(path), f"line {number}", pages))
            times[record.id] = (item.get("created_at"), item.get("updated_at"))
            tags[record.id] = (item.get("suggestions", []), item.get("tag_history", []))
        for start in range(0, len(parsed), BATCH_RECORDS):
            self._store_batch(parsed[start : start + BATCH_RECORDS], report, None)
        self._flush_index()
        for record_id, (created, updated) in times.items():
            if created and updated:
                self.store.set_times(record_id, created, updated)
        for record_id, (suggestions, history) in tags.items():
            if suggestions or history:
                self.store.restore_tags(record_id, suggestions, history)
        return report

    def backup(self, target: Path) -> None:
        """A consistent snapshot (store, then index) that `kb serve --data-dir TARGET` can open."""
        import shutil

        self._flush_index()
        with self._write_lock:
            self.store.backup(target / self.settings.db_path.name)
            if self.settings.index_dir.exists():
                shutil.copytree(self.settings.index_dir, target / self.settings.index_dir.name, dirs_exist_ok=True)

    # --- reading -------------------------------------------------------------------------------
    def get(self, record_id: str) -> StoredRecord:
        return self.store.get(record_id)

    def search(self, query: str, filters: Filters, limit: int = 10, offset: int = 0):
        return self.searcher.search(query, filters, limit, offset)

    def related(self, text: str, filters: Filters, limit: int = 10, offset: int = 0):
        return self.searcher.related(text, filters, limit, offset)

    def similar(self, record_id: str, filters: Filters, limit: int = 10, same_city: bool = False):
        return self.searcher.similar(record_id, filters, limit, same_city)
