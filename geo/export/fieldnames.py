"""Shapefile field names: at most 10 ASCII characters, deterministic and collision-free.

dBASE (.dbf) field names hold 10 characters. GDAL would cut
``indicator_01_rate`` to ``indicato_1``; this module shortens names so that
they keep as much meaning as fits, and ``fields.csv`` in every shapefile zip
maps each short name back to the full name, label and unit.

The rule, applied to each full column name on its own:

1. **Sanitise.** Accents are folded to ASCII (``Môn`` -> ``Mon``), letters
   lower-cased, every run of other characters becomes ``_``, leading and
   trailing ``_`` are dropped; a name starting with a digit gets an ``f``
   in front; an empty result becomes ``field``. A name of at most 10
   characters is used as it is.
2. **Drop inner vowels.** In every word (the parts between ``_``) longer
   than 3 characters, the vowels a, e, i, o, u after its first letter are
   dropped (``claimant_rate`` -> ``clmnt_rate``). Used when it fits.
3. **Join the words** without ``_`` (``indctr01rt``). Used when it fits.
4. **Shorten the longest word** one character at a time (from its end; on a
   tie the leftmost such word), never a word made only of digits (years and
   numbers carry the meaning) while another word can still shrink, and
   never below one character. Last resort: the first 10 characters.

Then, over all the columns of one layer together: names that end up the same
(compared without regard to case, as dBASE and GDAL compare them) are sorted
by full name; the first keeps the name and each next one gets the smallest
number 2, 3, ... that is neither taken nor another column's own short
name, appended and, where needed, written over the last characters so the
name stays within 10 (``ovrlp_cnt`` -> ``ovrlp_cnt2``, ``clmntcntrt`` ->
``clmntcntr2``). Names given explicitly (``short=``) are
reserved first. The outcome depends only on the set of names, not on their
order, so the same columns always get the same short names.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping

from geo.errors import FieldNameCollisionError

#: Longest dBASE field name (characters).
MAX_LEN = 10
VOWELS = set("aeiou")
#: Words up to this length keep their vowels (``hub``, ``pct``, ``bus``).
KEEP_VOWELS_UP_TO = 3
_VALID_SHORT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,9}$")


def sanitise(name: str) -> str:
    """Step 1: ASCII, lower case, ``_`` between words, not starting with a digit."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if not text:
        return "field"
    return "f" + text if text[0].isdigit() else text


def _drop_vowels(word: str) -> str:
    if len(word) <= KEEP_VOWELS_UP_TO or word.isdigit():
        return word
    return word[0] + "".join(ch for ch in word[1:] if ch not in VOWELS)


def shorten(name: str) -> str:
    """The short name of one column before collisions are resolved (steps 1-4)."""
    text = sanitise(name)
    if len(text) <= MAX_LEN:
        return text
    words = [_drop_vowels(w) for w in text.split("_")]
    candidate = "_".join(words)
    if len(candidate) <= MAX_LEN:
        return candidate
    while len("".join(words)) > MAX_LEN:
        shrinkable = [i for i, w in enumerate(words) if len(w) > 1 and not w.isdigit()]
        if not shrinkable:
            shrinkable = [i for i, w in enumerate(words) if len(w) > 1]
        if not shrinkable:
            break
        longest = max(len(words[i]) for i in shrinkable)
        i = next(i for i in shrinkable if len(words[i]) == longest)
        words[i] = words[i][:-1]
    joined = "".join(words)
    if joined[0].isdigit():  # a leading word shrank away; keep dBASE happy
        joined = "f" + joined
    return joined[:MAX_LEN]


def _with_number(base: str, number: int) -> str:
    suffix = str(number)
    return base[: MAX_LEN - len(suffix)] + suffix


def short_names(names: Iterable[str], explicit: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map every full name to a unique short name (see the module docstring for the rule).

    ``explicit`` maps some full names to short names chosen by the caller;
    they must be valid dBASE names and distinct, else
    :class:`FieldNameCollisionError`.
    """
    names = list(dict.fromkeys(names))
    explicit = dict(explicit or {})
    taken: dict[str, str] = {}  # casefolded short -> full name
    result: dict[str, str] = {}
    for full in sorted(explicit):
        short = explicit[full]
        if not _VALID_SHORT.match(short or ""):
            raise FieldNameCollisionError(
                f"short name {short!r} for column {full!r} is not a shapefile field name "
                f"(1-10 ASCII letters, digits or _, starting with a letter)")
        if short.casefold() in taken:
            raise FieldNameCollisionError(
                f"columns {taken[short.casefold()]!r} and {full!r} were both given the short name {short!r}; "
                f"choose different short names")
        taken[short.casefold()] = full
        result[full] = short
    bases = {full: shorten(full) for full in names if full not in explicit}
    groups: dict[str, list[str]] = {}
    for full, base in bases.items():
        groups.setdefault(base, []).append(full)
    other_bases = {base.casefold() for base in groups}
    for base in sorted(groups):
        for position, full in enumerate(sorted(groups[base])):
            short = base
            if position > 0 or base.casefold() in taken:
                number = 2
                short = _with_number(base, number)
                # skip numbers already taken and names that are another column's own short name
                while short.casefold() in taken or (short.casefold() in other_bases and short != base):
                    number += 1
                    short = _with_number(base, number)
            taken[short.casefold()] = full
            result[full] = short
    return {full: result[full] for full in names}
