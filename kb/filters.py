"""Search filters, turned into one SQL condition over the records table."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

DEFAULT_SUGGESTION_THRESHOLD = 0.5


@dataclass(frozen=True)
class Filters:
    """What a search is restricted to. Repeated SDGs mean any of them.

    SDG and gender filters match curated tags and, unless `curated_only`, the tagger's pending
    suggestions scored at or above `threshold` (rejected suggestions never match)."""

    kind: str | None = None
    sdgs: frozenset[int] = field(default_factory=frozenset)
    gender: bool | None = None
    language: str | None = None
    country: str | None = None
    city: str | None = None
    region: str | None = None
    topic: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    exclude_ids: frozenset[str] = field(default_factory=frozenset)
    curated_only: bool = False
    threshold: float = DEFAULT_SUGGESTION_THRESHOLD

    def is_empty(self) -> bool:
        return replace(self, curated_only=False, threshold=DEFAULT_SUGGESTION_THRESHOLD) == Filters()

    def suggested(self, alias: str, tag: str, values: str = "") -> str:
        """SQL: the record has a pending suggestion of `tag` (optionally among `values`) at or above the threshold."""
        among = f" AND g.value IN ({values})" if values else ""
        return (f"EXISTS (SELECT 1 FROM suggestions g WHERE g.record_id = {alias}.id AND g.tag = '{tag}'{among} "
                f"AND g.status = 'pending' AND g.score >= {float(self.threshold)!r})")

    def where(self, alias: str = "r") -> tuple[str, list]:
        """SQL condition (always valid, `1` when empty) and its parameters."""
        clauses: list[str] = []
        params: list = []
        simple = (
            ("kind", self.kind), ("language", self.language), ("country", self.country),
        )
        for column, value in simple:
            if value is not None:
                clauses.append(f"{alias}.{column} = ?")
                params.append(value)
        for column, value in (("city", self.city), ("region", self.region)):
            if value is not None:
                clauses.append(f"{alias}.{column} = ? COLLATE NOCASE")
                params.append(value)
        if self.gender is not None:
            clauses.append(self._gender_clause(alias))
        if self.year_from is not None:
            clauses.append(f"{alias}.year >= ?")
            params.append(self.year_from)
        if self.year_to is not None:
            clauses.append(f"{alias}.year <= ?")
            params.append(self.year_to)
        if self.sdgs:
            marks = ",".join("?" * len(self.sdgs))
            curated = f"EXISTS (SELECT 1 FROM record_sdgs s WHERE s.record_id = {alias}.id AND s.sdg IN ({marks}))"
            params.extend(sorted(self.sdgs))
            if self.curated_only:
                clauses.append(curated)
            else:
                clauses.append(f"({curated} OR {self.suggested(alias, 'sdg', marks)})")
                params.extend(sorted(self.sdgs))
        if self.topic is not None:
            clauses.append(
                f"EXISTS (SELECT 1 FROM record_topics t WHERE t.record_id = {alias}.id AND t.topic = ? COLLATE NOCASE)"
            )
            params.append(self.topic)
        if self.exclude_ids:
            marks = ",".join("?" * len(self.exclude_ids))
            clauses.append(f"{alias}.id NOT IN ({marks})")
            params.extend(sorted(self.exclude_ids))
        return (" AND ".join(clauses) or "1"), params

    def _gender_clause(self, alias: str) -> str:
        if self.curated_only:
            return f"{alias}.gender = {int(bool(self.gender))}"
        if self.gender:
            return f"({alias}.gender = 1 OR {self.suggested(alias, 'gender')})"
        return f"({alias}.gender = 0 AND NOT {self.suggested(alias, 'gender')})"
