"""What changed between two texts, word by word: the information bank's versions and the host
city's updates are both shown this way (an interface renders the parts as <del> and <ins>, each
with a text label, so that the change is not told by colour or strike-through alone)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

# Splitting on whitespace and keeping it: the text is rebuilt exactly, line breaks included.
_WORDS = re.compile(r"(\s+)")

Operation = Literal["equal", "delete", "insert"]


@dataclass(frozen=True)
class DiffPart:
    operation: Operation
    text: str

    @property
    def removed(self) -> bool:
        return self.operation == "delete"

    @property
    def added(self) -> bool:
        return self.operation == "insert"


def word_diff(old: str, new: str) -> list[DiffPart]:
    """`new` against `old` as a sequence of kept, removed and added runs of words: joining the
    kept and removed parts gives `old`, the kept and added parts give `new`."""
    before, after = _WORDS.split(old), _WORDS.split(new)
    parts: list[DiffPart] = []
    opcodes = SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes()
    for operation, i1, i2, j1, j2 in opcodes:
        if operation == "equal":
            parts.append(DiffPart("equal", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("delete", "".join(before[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("insert", "".join(after[j1:j2])))
    return [part for part in parts if part.text]
