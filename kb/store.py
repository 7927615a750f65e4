"""The SQLite store: records, their SDGs, topics, chunks and pages. The source of truth."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kb.errors import NotFound
from kb.filters import Filters
from kb.records import Chunk, Record, embedding_text
from kb.tags import TAG_SCHEMA, Suggestion, TagTables

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, language TEXT,
    city TEXT, country TEXT, region TEXT, year INTEGER, gender INTEGER NOT NULL,
    data TEXT NOT NULL, content_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS record_sdgs (
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE, sdg INTEGER NOT NULL,
    PRIMARY KEY (record_id, sdg)
);
CREATE TABLE IF NOT EXISTS record_topics (
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE, topic TEXT NOT NULL,
    PRIMARY KEY (record_id, topic)
);
-- AUTOINCREMENT: a chunk id is never reused, so a stale vector can never point at a new chunk.
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL, text TEXT NOT NULL, page INTEGER, language TEXT
);
CREATE INDEX IF NOT EXISTS chunks_by_record ON chunks(record_id);
CREATE TABLE IF NOT EXISTS pages (
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE, page INTEGER NOT NULL,
    text TEXT NOT NULL, PRIMARY KEY (record_id, page)
);
CREATE TABLE IF NOT EXISTS rejections (
    source TEXT NOT NULL, record TEXT, reason TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (source, record)
);
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The keyword index lives in the same database, so it commits (or not) with the chunks themselves.
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, text, tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, row);
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, title, text)
    VALUES (new.id, (SELECT title FROM records WHERE id = new.record_id), new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;
"""

FACET_COLUMNS = {"language": "language", "kind": "kind", "country": "country", "region": "region"}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StoredRecord:
    record: Record
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class UpsertResult:
    """What one upsert did: `status` is added, updated or unchanged."""

    status: str
    removed_chunk_ids: list[int]
    added_chunk_ids: list[int]


class Store(TagTables):
    """One SQLite database; safe to share between threads (one connection behind a lock)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA + TAG_SCHEMA)
        self._in_tx = False
        self._rebuild_keyword_index_if_needed()

    def _rebuild_keyword_index_if_needed(self) -> None:
        """Stores written before the keyword index existed get it filled once."""
        chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        indexed = self._db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
        if chunks != indexed:
            with self.transaction():
                self._db.execute("DELETE FROM chunks_fts")
                self._db.execute(
                    "INSERT INTO chunks_fts (rowid, title, text) "
                    "SELECT c.id, r.title, c.text FROM chunks c JOIN records r ON r.id = c.record_id"
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested calls join the outer one)."""
        with self._lock:
            if self._in_tx:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._in_tx = True
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._in_tx = False

    def _q(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    # --- records -----------------------------------------------------------------------------
    def upsert(self, record: Record, chunks: list[Chunk], pages: list[tuple[int, str]] | None = None,
               suggestions: list[Suggestion] | None = None, tagger: str | None = None) -> UpsertResult:
        """Add or replace a record with its chunks (and the tagger's suggestions); an identical record is left untouched.

        Tags that staff have curated win over the ones in a re-ingested source file."""
        assert record.id, "records are stored with an id"
        digest = record.content_hash()
        with self.transaction():
            row = self._db.execute("SELECT content_hash, created_at, data FROM records WHERE id = ?", (record.id,)).fetchone()
            if row and row["content_hash"] == digest:
                return UpsertResult("unchanged", [], [])
            if row and self.curated_by_staff(record.id):
                kept = Record.model_validate_json(row["data"])
                record = record.model_copy(update={"sdgs": kept.sdgs, "gender_perspective": kept.gender_perspective})
            removed = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE record_id = ?", (record.id,))]
            created = row["created_at"] if row else now()
            self._db.execute("DELETE FROM records WHERE id = ?", (record.id,))
            self._insert(record, digest, created, chunks, pages or [])
            if tagger is not None:
                self._write_suggestions(record.id, tagger, suggestions or [], now())
            else:  # the tagger sees it later (KnowledgeBase.open_index tags what is untagged)
                self._db.execute("DELETE FROM tagged WHERE record_id = ?", (record.id,))
            added = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE record_id = ? ORDER BY ord", (record.id,))]
        return UpsertResult("updated" if row else "added", removed, added)

    def is_unchanged(self, record: Record) -> bool:
        rows = self._q("SELECT content_hash FROM records WHERE id = ?", (record.id,))
        return bool(rows) and rows[0][0] == record.content_hash()

    def _insert(self, record: Record, digest: str, created: str, chunks: list[Chunk], pages: list[tuple[int, str]]) -> None:
        data = json.dumps(record.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
        self._db.execute(
            "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (record.id, record.kind, record.title, record.language, record.city, record.country,
             record.region, record.year, int(record.gender_perspective), data, digest, created, now()),
        )
        self._db.executemany("INSERT INTO record_sdgs VALUES (?,?)", [(record.id, s) for s in record.sdgs])
        self._db.executemany("INSERT INTO record_topics VALUES (?,?)", [(record.id, t) for t in record.topics])
        self._db.executemany(
            "INSERT INTO chunks (record_id, ord, text, page, language) VALUES (?,?,?,?,?)",
            [(record.id, c.ord, c.text, c.page, c.language) for c in chunks],
        )
        self._db.executemany("INSERT INTO pages VALUES (?,?,?)", [(record.id, p, t) for p, t in pages])
        if record.source_file:
            self._db.execute("DELETE FROM rejections WHERE source = ?", (record.source_file,))

    def delete(self, record_id: str) -> list[int]:
        """Remove a record; returns the ids of its chunks (to drop from the index)."""
        with self.transaction():
            removed = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE record_id = ?", (record_id,))]
            if not self._db.execute("DELETE FROM records WHERE id = ?", (record_id,)).rowcount:
                raise NotFound(f"no record with id {record_id!r}")
            self._db.execute("DELETE FROM suggestions WHERE record_id = ?", (record_id,))
            self._db.execute("DELETE FROM tagged WHERE record_id = ?", (record_id,))
        return removed

    def get(self, record_id: str) -> StoredRecord:
        rows = self._q("SELECT data, created_at, updated_at FROM records WHERE id = ?", (record_id,))
        if not rows:
            raise NotFound(f"no record with id {record_id!r}")
        row = rows[0]
        return StoredRecord(Record.model_validate_json(row["data"]), row["created_at"], row["updated_at"])

    def records(self, ids: list[str]) -> dict[str, Record]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._q(f"SELECT id, data FROM records WHERE id IN ({marks})", ids)
        return {r["id"]: Record.model_validate_json(r["data"]) for r in rows}

    def iter_records(self) -> Iterator[Record]:
        for row in self._q("SELECT data FROM records ORDER BY id"):
            yield Record.model_validate_json(row["data"])

    def set_times(self, record_id: str, created_at: str, updated_at: str) -> None:
        """Keep a record's history when it is imported from an export."""
        with self.transaction():
            self._db.execute("UPDATE records SET created_at = ?, updated_at = ? WHERE id = ?", (created_at, updated_at, record_id))

    def backup(self, target: Path) -> None:
        """A consistent copy of the database while it is in use (SQLite online backup)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(target)
        try:
            with self._lock:
                self._db.backup(copy)
        finally:
            copy.close()

    def pages(self, record_id: str) -> list[tuple[int, str]]:
        return [(r["page"], r["text"]) for r in self._q("SELECT page, text FROM pages WHERE record_id = ? ORDER BY page", (record_id,))]

    # --- filtering and facets ------------------------------------------------------------------
    def record_ids(self, filters: Filters, order: str = "r.year DESC, r.title") -> list[str]:
        where, params = filters.where()
        return [r[0] for r in self._q(f"SELECT r.id FROM records r WHERE {where} ORDER BY {order}", params)]

    def chunk_ids(self, filters: Filters) -> list[int]:
        """Ids of the chunks of records that pass the filters (the FAISS selector)."""
        where, params = filters.where()
        return [r[0] for r in self._q(f"SELECT c.id FROM chunks c JOIN records r ON r.id = c.record_id WHERE {where}", params)]

    def count(self, filters: Filters) -> int:
        where, params = filters.where()
        return self._q(f"SELECT COUNT(*) FROM records r WHERE {where}", params)[0][0]

    def facets(self, filters: Filters) -> dict[str, dict[str, int]]:
        """Counts per value over the records that pass the filters."""
        where, params = filters.where()
        out: dict[str, dict[str, int]] = {}
        tags = "SELECT record_id, sdg FROM record_sdgs"
        if not filters.curated_only:  # the same tags the SDG filter matches
            tags += (" UNION SELECT record_id, value FROM suggestions WHERE tag = 'sdg' AND status = 'pending' "
                     f"AND score >= {float(filters.threshold)!r}")
        sql_sdg = f"SELECT s.sdg, COUNT(*) FROM ({tags}) s JOIN records r ON r.id = s.record_id WHERE {where} GROUP BY s.sdg ORDER BY s.sdg"
        out["sdg"] = {str(k): v for k, v in self._q(sql_sdg, params)}
        for name, column in FACET_COLUMNS.items():
            sql = f"SELECT r.{column}, COUNT(*) FROM records r WHERE {where} AND r.{column} IS NOT NULL GROUP BY r.{column} ORDER BY 2 DESC, 1"
            out[name] = {k: v for k, v in self._q(sql, params)}
        has_gender = "r.gender" if filters.curated_only else f"(r.gender = 1 OR {filters.suggested('r', 'gender')})"
        sql_gender = f"SELECT {has_gender}, COUNT(*) FROM records r WHERE {where} GROUP BY 1"
        out["gender_perspective"] = {("true" if k else "false"): v for k, v in self._q(sql_gender, params)}
        sql_topic = f"SELECT t.topic, COUNT(*) FROM record_topics t JOIN records r ON r.id = t.record_id WHERE {where} GROUP BY t.topic ORDER BY 2 DESC, 1 LIMIT 50"
        out["topic"] = {k: v for k, v in self._q(sql_topic, params)}
        return out

    def count_by_year(self) -> list[tuple[int, int]]:
        """Records per year, every year from the first to the last (zeros included)."""
        rows = self._q("SELECT year, COUNT(*) FROM records WHERE year IS NOT NULL GROUP BY year ORDER BY year")
        counts = {r[0]: r[1] for r in rows}
        return [(y, counts.get(y, 0)) for y in range(min(counts), max(counts) + 1)] if counts else []

    # --- chunks ------------------------------------------------------------------------------
    def chunks(self, ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._q(f"SELECT id, record_id, ord, text, page FROM chunks WHERE id IN ({marks})", ids)
        return {r["id"]: r for r in rows}

    def chunk_texts_for_embedding(self, ids: Iterable[int] | None = None) -> Iterator[tuple[int, str, str]]:
        """(chunk id, text to embed, language): the record title gives each chunk its context."""
        sql = "SELECT c.id, r.title, c.text, IFNULL(c.language, IFNULL(r.language, 'und')) FROM chunks c JOIN records r ON r.id = c.record_id"
        rows = self._q(sql + " ORDER BY c.id") if ids is None else self._chunks_in(sql, list(ids))
        for row in rows:
            yield row[0], embedding_text(row[1], row[2]), row[3]

    def chunk_languages(self, ids: Iterable[int] | None = None) -> dict[int, str]:
        sql = "SELECT c.id, IFNULL(c.language, IFNULL(r.language, 'und')) FROM chunks c JOIN records r ON r.id = c.record_id"
        rows = self._q(sql) if ids is None else self._chunks_in(sql, list(ids))
        return {r[0]: r[1] for r in rows}

    def chunk_language_counts(self) -> dict[str, int]:
        sql = "SELECT IFNULL(c.language, IFNULL(r.language, 'und')), COUNT(*) FROM chunks c JOIN records r ON r.id = c.record_id GROUP BY 1"
        return {r[0]: r[1] for r in self._q(sql)}

    def _chunks_in(self, sql: str, ids: list[int]) -> list[sqlite3.Row]:
        out: list[sqlite3.Row] = []
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            part = ids[start : start + 900]
            out += self._q(sql + f" WHERE c.id IN ({','.join('?' * len(part))}) ORDER BY c.id", part)
        return out

    def keyword_chunks(self, terms: list[str], filters: Filters, limit: int = 200) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) for chunks matching any of `terms`, filters applied."""
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        where, params = filters.where()
        sql = (
            "SELECT f.rowid, -bm25(chunks_fts, 2.0, 1.0) AS score FROM chunks_fts f "
            "JOIN chunks c ON c.id = f.rowid JOIN records r ON r.id = c.record_id "
            f"WHERE chunks_fts MATCH ? AND {where} ORDER BY bm25(chunks_fts, 2.0, 1.0) LIMIT ?"
        )
        return [(r[0], float(r[1])) for r in self._q(sql, [match, *params, limit])]

    def change_key(self) -> tuple[int, int]:
        """Differs after any write, by this connection (total_changes) or another process (data_version)."""
        with self._lock:
            return self._db.total_changes, self._db.execute("PRAGMA data_version").fetchone()[0]

    def stats_chunks_count(self) -> int:
        return self._q("SELECT COUNT(*) FROM chunks")[0][0]

    def vocabulary(self, min_count: int = 1) -> dict[str, int]:
        """Indexed terms and the number of chunks each occurs in (for typo correction)."""
        return {r[0]: r[1] for r in self._q("SELECT term, doc FROM chunks_vocab WHERE doc >= ?", (min_count,))}

    def all_chunk_ids(self) -> list[int]:
        return [r[0] for r in self._q("SELECT id FROM chunks ORDER BY id")]

    def records_of_chunks(self, ids: Iterable[int]) -> dict[int, str]:
        """chunk id -> record id (no text: cheap for the hundreds of chunks a search ranks)."""
        ids = list(ids)
        out: dict[int, str] = {}
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            marks = ",".join("?" * len(part))
            out.update((r[0], r[1]) for r in self._q(f"SELECT id, record_id FROM chunks WHERE id IN ({marks})", part))
        return out

    def chunk_ids_of_records(self, record_ids: list[str]) -> list[tuple[int, str]]:
        """(chunk id, record id) for every chunk of the given records."""
        out: list[tuple[int, str]] = []
        for start in range(0, len(record_ids), 500):
            part = record_ids[start : start + 500]
            marks = ",".join("?" * len(part))
            out += [(r[0], r[1]) for r in self._q(f"SELECT id, record_id FROM chunks WHERE record_id IN ({marks})", part)]
        return out

    def record_chunk_ids(self, record_id: str) -> list[int]:
        return [r[0] for r in self._q("SELECT id FROM chunks WHERE record_id = ? ORDER BY ord", (record_id,))]

    # --- rejections, keys, meta ------------------------------------------------------------------
    def note_rejection(self, source: str, record: str | None, reason: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO rejections VALUES (?,?,?,?)", (source, record or "", reason, now()))

    def rejections(self) -> list[sqlite3.Row]:
        return self._q("SELECT source, record, reason, at FROM rejections ORDER BY source, record")

    def add_key(self, name: str, key_hash: str) -> int:
        with self.transaction():
            return self._db.execute("INSERT INTO api_keys (name, key_hash, created_at) VALUES (?,?,?)", (name, key_hash, now())).lastrowid

    def revoke_key(self, key_id: int) -> None:
        with self.transaction():
            if not self._db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now(), key_id)).rowcount:
                raise NotFound(f"no active API key with id {key_id}")

    def active_keys(self) -> list[tuple[str, str]]:
        """(name, hash) of every key that is not revoked."""
        return [(r[0], r[1]) for r in self._q("SELECT name, key_hash FROM api_keys WHERE revoked_at IS NULL")]

    def keys(self) -> list[sqlite3.Row]:
        return self._q("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY id")

    def stats(self) -> dict[str, object]:
        def grouped(sql: str) -> dict[str, int]:
            return {str(k): v for k, v in self._q(sql)}

        return {
            "records": self._q("SELECT COUNT(*) FROM records")[0][0],
            "chunks": self._q("SELECT COUNT(*) FROM chunks")[0][0],
            "by_kind": grouped("SELECT kind, COUNT(*) FROM records GROUP BY kind"),
            "by_language": grouped("SELECT language, COUNT(*) FROM records GROUP BY language ORDER BY 2 DESC"),
            "by_region": grouped("SELECT region, COUNT(*) FROM records WHERE region IS NOT NULL GROUP BY region ORDER BY 2 DESC"),
            "by_sdg": grouped("SELECT sdg, COUNT(*) FROM record_sdgs GROUP BY sdg ORDER BY sdg"),
            "gender_perspective": self._q("SELECT COUNT(*) FROM records WHERE gender = 1")[0][0],
            "cities": self._q("SELECT COUNT(DISTINCT city || '|' || IFNULL(country, '')) FROM records WHERE city IS NOT NULL")[0][0],
            "rejected_files": len(self.rejections()),
        }
