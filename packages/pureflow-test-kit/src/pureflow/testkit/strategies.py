"""Hypothesis strategies for property tests of Pureflow code."""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st

IDENTIFIER_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./"
"""The characters :func:`valid_identifiers` draws from."""


def valid_identifiers(min_size: int = 1, max_size: int = 15) -> st.SearchStrategy[str]:
    """Identifier text that every Pureflow id type accepts: ``min_size``-``max_size``
    (default 1-15) characters from ``[a-zA-Z0-9-_./]``, the original's property
    strategy."""
    if min_size < 1:
        raise ValueError("identifiers are never empty: min_size must be >= 1")
    return st.text(alphabet=IDENTIFIER_ALPHABET, min_size=min_size, max_size=max_size)


valid_identifier_strategy = valid_identifiers
"""The original's name."""
