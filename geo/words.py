"""Counts in plain words: "1 site" and "5 sites" where a message would otherwise say "site(s)"."""

from __future__ import annotations


def count_of(n: int, word: str, plural: str | None = None) -> str:
    """``1 site``, ``5 sites``, ``1,204 priority areas``: ``n`` with its word, singular or plural."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def agree(n: int, singular: str, plural: str) -> str:
    """``singular`` when ``n`` is 1, else ``plural``: the verb after :func:`count_of` ("has"/"have")."""
    return singular if n == 1 else plural
