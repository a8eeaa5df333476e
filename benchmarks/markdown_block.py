"""The generated part of a hand-written Markdown document: the text between two HTML comments."""

from __future__ import annotations


def replace_block(text: str, block: str, begin: str, end: str) -> str:
    """``text`` with what lies between ``begin`` and ``end`` replaced by ``block``; a document
    without both markers gets them, around ``block``, appended."""
    if begin not in text or end not in text:
        return text.rstrip("\n") + f"\n\n{begin}\n{block}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{block}\n{end}{tail}"
