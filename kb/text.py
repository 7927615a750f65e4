"""Plain-text helpers shared by ingestion (chunking) and the tagger (evidence sentences)."""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s+|\n{2,}")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]
