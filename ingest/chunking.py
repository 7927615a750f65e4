"""Split long text into overlapping chunks of about `words` words, at sentence ends when possible."""

from __future__ import annotations

from kb.text import split_sentences


def chunk_text(text: str, words: int = 160, overlap: int = 30) -> list[str]:
    """Chunks of whole sentences up to ~`words` words; the next chunk repeats ~`overlap` words.

    A sentence longer than `words` is cut into word windows so no chunk exceeds the model's input.
    """
    pieces: list[list[str]] = []
    for sentence in split_sentences(text):
        tokens = sentence.split()
        while len(tokens) > words:
            pieces.append(tokens[:words])
            tokens = tokens[words - overlap :]
        if tokens:
            pieces.append(tokens)
    chunks: list[str] = []
    current: list[list[str]] = []
    size = 0
    fresh = 0  # pieces in `current` not carried over from the previous chunk
    for piece in pieces:
        if current and size + len(piece) > words:
            if not fresh:  # only carried context: drop it rather than repeat it as a chunk
                current, size = [], 0
                current.append(piece)
                size, fresh = len(piece), 1
                continue
            chunks.append(" ".join(w for p in current for w in p))
            # carry the last sentences (up to `overlap` words) into the next chunk for context
            carry: list[list[str]] = []
            carried = 0
            for prev in reversed(current):
                if carried + len(prev) > overlap:
                    break
                carry.insert(0, prev)
                carried += len(prev)
            current, size, fresh = carry, carried, 0
        current.append(piece)
        size += len(piece)
        fresh += 1
    if current and fresh:
        chunks.append(" ".join(w for p in current for w in p))
    return chunks
