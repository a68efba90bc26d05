"""Glob patterns for ``FieldMatches``: ``*`` and ``?`` over a whole string."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GlobPattern:
    """A pattern matched against the whole string, one code point at a time.

    ``*`` matches any sequence (including the empty one), ``?`` exactly one character;
    every other character is literal (there are no classes and no escapes). Any string is a
    valid pattern; the empty pattern matches only the empty string.

    Matching is iterative: a greedy scan that remembers only the most recent ``*`` and
    retries from there, so its cost is at most ``len(pattern) * len(text)`` steps. (The
    original backtracked recursively and was exponential on patterns like ``*a*a*a*b``.)
    """

    pattern: str

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str):
            raise TypeError(f"glob pattern must be a str, got {type(self.pattern).__name__}")

    def as_str(self) -> str:
        return self.pattern

    def __str__(self) -> str:
        return self.pattern

    def matches(self, text: str) -> bool:
        """Whether ``text`` matches the whole pattern."""
        pattern = self.pattern
        p = t = 0
        star = -1  # index in pattern of the last '*' seen
        resume = 0  # index in text where that '*' currently stops
        while t < len(text):
            if (
                p < len(pattern)
                and (pattern[p] == "?" or pattern[p] == text[t])
                and (pattern[p] != "*")
            ):
                p += 1
                t += 1
            elif p < len(pattern) and pattern[p] == "*":
                star = p
                resume = t
                p += 1
            elif star >= 0:
                resume += 1
                t = resume
                p = star + 1
            else:
                return False
        while p < len(pattern) and pattern[p] == "*":
            p += 1
        return p == len(pattern)
