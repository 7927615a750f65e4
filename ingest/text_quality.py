"""Text that came out wrong: mojibake (UTF-8 read as Latin-1, 'nÃºmero') is repaired with ftfy;
text that cannot be read (fonts without a Unicode map, private-use glyphs) is measured so that a
document made of it is rejected or flagged instead of being stored as noise."""

from __future__ import annotations

import re
import unicodedata

CID = re.compile(r"\(cid:\d+\)")
GARBLED_REJECT = 0.5  # share of unreadable characters above which a PDF is rejected
GARBLED_FLAG = 0.1  # ... above which it is stored with the flag "garbled-text"


def repair(text: str) -> tuple[str, bool]:
    """(text, True) when mojibake was found and fixed. Only the encoding repair of ftfy is used: its other
    fixes (straightening quotes, ligatures) would change sound text."""
    from ftfy import fix_encoding
    from ftfy.badness import is_bad

    if not text or not is_bad(text):
        return text, False
    fixed = fix_encoding(text)
    return fixed, fixed != text


def garbled_share(text: str) -> float:
    """Share of the non-space characters that a reader could not read."""
    text = CID.sub("\ufffd", text)
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return 0.0
    bad = 0
    for ch in visible:
        category = unicodedata.category(ch)
        if ch == "\ufffd" or category in ("Co", "Cn", "Cc", "Cs"):
            bad += 1
    readable = sum(ch.isalnum() for ch in visible) / len(visible)
    # Symbols with hardly any letters or digits is what unmapped fonts usually extract to; tables of
    # figures are readable.
    symbol_soup = max(0.0, 0.4 - readable) / 0.4
    return min(1.0, bad / len(visible) + symbol_soup)
