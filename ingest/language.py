"""Deterministic language detection (langdetect with a fixed seed), as ISO 639-1 codes."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_ready = False


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`, or None when it has too little text to tell."""
    global _ready
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    sample = text.strip()[:5000]
    if sum(ch.isalpha() for ch in sample) < 3:
        return None
    with _lock:  # langdetect's factory is global state; the seed makes results repeatable
        if not _ready:
            DetectorFactory.seed = 0
            _ready = True
        try:
            code = detect(sample)
        except LangDetectException:
            return None
    return code.split("-")[0][:2]
