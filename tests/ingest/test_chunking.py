from __future__ import annotations

from ingest.chunking import chunk_text, split_sentences


def test_short_text_is_one_chunk():
    assert chunk_text("One sentence. Another one.") == ["One sentence. Another one."]
    assert chunk_text("   ") == []


def test_long_text_splits_at_sentences_with_overlap():
    text = " ".join(f"Sentence {i} says something about the city." for i in range(60))
    chunks = chunk_text(text, words=50, overlap=10)
    assert len(chunks) > 5
    assert all(len(c.split()) <= 50 for c in chunks)
    assert all(c.endswith(".") for c in chunks), "chunks end at sentence ends"
    last_sentence_of_first = split_sentences(chunks[0])[-1]
    assert chunks[1].startswith(last_sentence_of_first), "the next chunk repeats the last sentence"
    assert "Sentence 59" in chunks[-1]


def test_a_sentence_longer_than_a_chunk_is_cut():
    chunks = chunk_text("word " * 400, words=100, overlap=20)
    assert all(len(c.split()) <= 100 for c in chunks) and len(chunks) == 5
