"""Tags of a record: curated ones (the record's own SDGs and gender flag), the tagger's suggestions, the audit trail.

Curated tags live in the record itself (`record_sdgs`, `records.gender`). Suggestions sit beside them with
a score, evidence and a review status; staff decisions are written to `tag_events` with who and when, and
a record whose tags staff have edited keeps those tags when its source file is ingested again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field

from kb.errors import BadRequest, NotFound

TAG_SCHEMA = """
CREATE TABLE IF NOT EXISTS suggestions (
    record_id TEXT NOT NULL, tag TEXT NOT NULL CHECK (tag IN ('sdg', 'gender')), value INTEGER NOT NULL,
    score REAL NOT NULL, evidence TEXT NOT NULL, tagger TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at TEXT NOT NULL, reviewed_by TEXT, reviewed_at TEXT,
    PRIMARY KEY (record_id, tag, value)
);
-- Pending suggestions by tag, for the facets. Partial on purpose: a full (status, tag, value) index
-- looked as good as the key to SQLite for "this record's pending suggestions", and led by it every
-- per-record statement scanned all pending suggestions (the review queue took 58 s at 10k records).
DROP INDEX IF EXISTS suggestions_by_status;
CREATE INDEX IF NOT EXISTS pending_suggestions ON suggestions(tag, value) WHERE status = 'pending';
-- The audit trail outlives the record: it says who decided what, and when.
CREATE TABLE IF NOT EXISTS tag_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, action TEXT NOT NULL,
    tag TEXT NOT NULL, value INTEGER NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, note TEXT
);
CREATE INDEX IF NOT EXISTS tag_events_by_record ON tag_events(record_id);
CREATE TABLE IF NOT EXISTS tagged (record_id TEXT PRIMARY KEY, tagger TEXT NOT NULL, at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Evidence:
    """A sentence that made the tagger suggest a tag, with its page when it comes from a PDF."""

    text: str
    score: float
    page: int | None = None


@dataclass(frozen=True)
class Suggestion:
    """One suggested tag: `tag` is "sdg" (value 1-17) or "gender" (value 1 = carries a gender perspective)."""

    tag: str
    value: int
    score: float
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class StoredSuggestion:
    tag: str
    value: int
    score: float
    evidence: list[dict]
    status: str
    tagger: str
    created_at: str
    reviewed_by: str | None
    reviewed_at: str | None


@dataclass(frozen=True)
class TagEvent:
    action: str
    tag: str
    value: int
    actor: str
    at: str
    note: str | None


@dataclass(frozen=True)
class TagDecision:
    """What a curator decided for one record. `sdgs` / `gender` set the curated tags outright (an edit);
    `accept` / `reject` name suggested SDGs; `accept_gender` accepts (True) or rejects (False) the gender suggestion."""

    accept: frozenset[int] = frozenset()
    reject: frozenset[int] = frozenset()
    accept_gender: bool | None = None
    sdgs: frozenset[int] | None = None
    gender: bool | None = None
    note: str | None = None


def _suggestion(row: sqlite3.Row) -> StoredSuggestion:
    return StoredSuggestion(row["tag"], row["value"], row["score"], json.loads(row["evidence"]), row["status"],
                            row["tagger"], row["created_at"], row["reviewed_by"], row["reviewed_at"])


class TagTables:
    """The tag half of the store (mixed into `Store`, which provides `_db`, `_q` and `transaction`)."""

    def _write_suggestions(self, record_id: str, tagger: str, suggestions: list[Suggestion], at: str) -> None:
        """Replace the pending suggestions of a record; reviewed ones keep their status, with fresh scores."""
        self._db.execute("DELETE FROM suggestions WHERE record_id = ? AND status = 'pending'", (record_id,))
        curated_sdgs = {r[0] for r in self._db.execute("SELECT sdg FROM record_sdgs WHERE record_id = ?", (record_id,))}
        curated_gender = bool(self._db.execute("SELECT gender FROM records WHERE id = ?", (record_id,)).fetchone()[0])
        for s in suggestions:
            evidence = json.dumps([asdict(e) for e in s.evidence], ensure_ascii=False)
            already = (s.tag == "sdg" and s.value in curated_sdgs) or (s.tag == "gender" and curated_gender)
            self._db.execute(
                "INSERT INTO suggestions (record_id, tag, value, score, evidence, tagger, status, created_at, reviewed_by, reviewed_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (record_id, tag, value) DO UPDATE SET "
                "score = excluded.score, evidence = excluded.evidence, tagger = excluded.tagger",
                (record_id, s.tag, s.value, s.score, evidence, tagger, "accepted" if already else "pending", at,
                 "record" if already else None, at if already else None),
            )
        self._db.execute("INSERT OR REPLACE INTO tagged VALUES (?,?,?)", (record_id, tagger, at))

    def suggestions(self, record_id: str) -> list[StoredSuggestion]:
        rows = self._q("SELECT * FROM suggestions WHERE record_id = ? ORDER BY tag DESC, score DESC", (record_id,))
        return [_suggestion(r) for r in rows]

    def suggestions_for(self, record_ids: list[str]) -> dict[str, list[StoredSuggestion]]:
        out: dict[str, list[StoredSuggestion]] = {i: [] for i in record_ids}
        for start in range(0, len(record_ids), 900):
            part = record_ids[start : start + 900]
            rows = self._q(f"SELECT * FROM suggestions WHERE record_id IN ({','.join('?' * len(part))}) "
                           "ORDER BY tag DESC, score DESC", part)
            for row in rows:
                out[row["record_id"]].append(_suggestion(row))
        return out

    def tag_events(self, record_id: str) -> list[TagEvent]:
        rows = self._q("SELECT action, tag, value, actor, at, note FROM tag_events WHERE record_id = ? ORDER BY id", (record_id,))
        return [TagEvent(*r) for r in rows]

    def untagged_record_ids(self, tagger: str) -> list[str]:
        """Records the current tagger has not seen (new store, or a new tagger version)."""
        sql = "SELECT r.id FROM records r LEFT JOIN tagged t ON t.record_id = r.id WHERE t.tagger IS NULL OR t.tagger != ? ORDER BY r.id"
        return [r[0] for r in self._q(sql, (tagger,))]

    def set_suggestions(self, record_id: str, tagger: str, suggestions: list[Suggestion]) -> None:
        from kb.store import now

        with self.transaction():
            if self._db.execute("SELECT 1 FROM records WHERE id = ?", (record_id,)).fetchone():
                self._write_suggestions(record_id, tagger, suggestions, now())

    def review_queue(self, threshold: float, limit: int, offset: int) -> tuple[int, list[str]]:
        """Records with pending suggestions at or above `threshold`: those without curated SDGs first, newest first."""
        base = ("FROM records r WHERE EXISTS (SELECT 1 FROM suggestions s WHERE s.record_id = r.id "
                "AND s.status = 'pending' AND s.score >= ?)")
        total = self._q(f"SELECT COUNT(*) {base}", (threshold,))[0][0]
        order = "EXISTS (SELECT 1 FROM record_sdgs c WHERE c.record_id = r.id), r.created_at DESC, r.id"
        rows = self._q(f"SELECT r.id {base} ORDER BY {order} LIMIT ? OFFSET ?", (threshold, limit, offset))
        return total, [r[0] for r in rows]

    def restore_tags(self, record_id: str, suggestions: list[dict], history: list[dict]) -> None:
        """Put back exported suggestions (with their review status) and audit trail, as they were."""
        with self.transaction():
            for s in suggestions:
                self._db.execute(
                    "INSERT OR REPLACE INTO suggestions (record_id, tag, value, score, evidence, tagger, status, created_at, reviewed_by, reviewed_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (record_id, s["tag"], s["value"], s["score"], json.dumps(s["evidence"], ensure_ascii=False), s["tagger"],
                     s["status"], s["created_at"], s.get("reviewed_by"), s.get("reviewed_at")),
                )
            known = {tuple(e) for e in self._db.execute("SELECT action, tag, value, actor, at FROM tag_events WHERE record_id = ?", (record_id,))}
            for e in history:
                if (e["action"], e["tag"], e["value"], e["actor"], e["at"]) not in known:
                    self._db.execute("INSERT INTO tag_events (record_id, action, tag, value, actor, at, note) VALUES (?,?,?,?,?,?,?)",
                                     (record_id, e["action"], e["tag"], e["value"], e["actor"], e["at"], e.get("note")))

    def curated_by_staff(self, record_id: str) -> bool:
        return bool(self._db.execute("SELECT 1 FROM tag_events WHERE record_id = ? LIMIT 1", (record_id,)).fetchone())

    def decide_tags(self, record_id: str, decision: TagDecision, actor: str) -> None:
        """Apply a curator's decision in one transaction and log each change with who and when."""
        from kb.records import Record
        from kb.store import now

        with self.transaction():
            row = self._db.execute("SELECT data FROM records WHERE id = ?", (record_id,)).fetchone()
            if not row:
                raise NotFound(f"no record with id {record_id!r}")
            record = Record.model_validate_json(row["data"])
            pending = {(r["tag"], r["value"]) for r in self._db.execute(
                "SELECT tag, value FROM suggestions WHERE record_id = ? AND status = 'pending'", (record_id,))}
            unknown = sorted(v for v in decision.accept | decision.reject if ("sdg", v) not in pending)
            if unknown:
                raise BadRequest(f"record {record_id!r} has no pending suggestion for SDG {', '.join(map(str, unknown))}")
            if decision.accept_gender is not None and ("gender", 1) not in pending:
                raise BadRequest(f"record {record_id!r} has no pending gender-perspective suggestion")
            at = now()
            sdgs, gender = set(record.sdgs), record.gender_perspective
            events: list[tuple[str, str, int]] = []
            for value in sorted(decision.accept):
                events.append(("accept", "sdg", value))
                sdgs.add(value)
            events += [("reject", "sdg", v) for v in sorted(decision.reject)]
            if decision.accept_gender is not None:
                events.append(("accept" if decision.accept_gender else "reject", "gender", 1))
                gender = gender or decision.accept_gender
            if decision.sdgs is not None:
                events += [("add", "sdg", v) for v in sorted(decision.sdgs - sdgs)]
                events += [("remove", "sdg", v) for v in sorted(sdgs - decision.sdgs)]
                sdgs = set(decision.sdgs)
            if decision.gender is not None and decision.gender != gender:
                events.append(("add" if decision.gender else "remove", "gender", 1))
                gender = decision.gender
            self._set_curated(record, sorted(sdgs), gender, at)
            self._resolve_suggestions(record_id, sdgs, gender, decision, actor, at)
            self._db.executemany("INSERT INTO tag_events (record_id, action, tag, value, actor, at, note) VALUES (?,?,?,?,?,?,?)",
                                 [(record_id, a, t, v, actor, at, decision.note) for a, t, v in events])

    def _set_curated(self, record, sdgs: list[int], gender: bool, at: str) -> None:
        updated = record.model_copy(update={"sdgs": sdgs, "gender_perspective": gender})
        data = json.dumps(updated.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
        # content_hash stays that of the source record, so re-ingesting the same file is still "unchanged".
        self._db.execute("UPDATE records SET data = ?, gender = ?, updated_at = ? WHERE id = ?", (data, int(gender), at, record.id))
        self._db.execute("DELETE FROM record_sdgs WHERE record_id = ?", (record.id,))
        self._db.executemany("INSERT INTO record_sdgs VALUES (?,?)", [(record.id, s) for s in sdgs])

    def _resolve_suggestions(self, record_id: str, sdgs: set[int], gender: bool, decision: TagDecision, actor: str, at: str) -> None:
        """Pending suggestions that the decision settles become accepted or rejected."""
        rows = self._db.execute("SELECT tag, value FROM suggestions WHERE record_id = ? AND status = 'pending'", (record_id,)).fetchall()
        for tag, value in rows:
            if tag == "sdg":
                named = value in decision.accept | decision.reject
                if not (named or decision.sdgs is not None):  # an edit of the SDG set settles them all
                    continue
                status = "accepted" if value in sdgs else "rejected"
            else:
                if decision.accept_gender is None and decision.gender is None:
                    continue
                status = "accepted" if gender else "rejected"
            self._db.execute("UPDATE suggestions SET status = ?, reviewed_by = ?, reviewed_at = ? WHERE record_id = ? AND tag = ? AND value = ?",
                             (status, actor, at, record_id, tag, value))
