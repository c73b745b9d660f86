"""Name matching across scripts and spellings (Muhammad / Mohammed / محمد).

Names of newcomers reach German authorities in several transliterations. We
compare names on two keys: a folded form (any script → ASCII, lower case,
letters only) and a consonant skeleton of it (vowels and repeated letters
dropped), which also unifies common Arabic/Persian transliteration variants.
"""

from __future__ import annotations

import re

from anyascii import anyascii
from rapidfuzz import fuzz

_NON_LETTERS = re.compile(r"[^a-z ]+")
_VOWELS = re.compile(r"[aeiouy]")
_REPEATS = re.compile(r"(.)\1+")
# Spelling variants that map to one sound in transliterations from Arabic/Persian/Cyrillic.
_VARIANTS = (
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ph", "f"),
    ("kh", "h"),
    ("dh", "d"),
    ("th", "t"),
    ("sh", "s"),
    ("ch", "s"),
    ("q", "k"),
    ("c", "k"),
    ("w", "v"),
    ("j", "y"),
    ("z", "s"),
)


def fold(name: str) -> str:
    """Any script to lower-case ASCII letters and single spaces."""
    ascii_name = anyascii(name).lower()
    ascii_name = ascii_name.replace("-", " ").replace("'", "").replace("`", "")
    return " ".join(_NON_LETTERS.sub(" ", ascii_name).split())


def skeleton(name: str) -> str:
    """Consonant skeleton per word of a folded name: 'mohammed ali' → 'mhmd l'."""
    words = []
    for word in fold(name).split():
        for old, new in _VARIANTS:
            word = word.replace(old, new)
        head, rest = word[:1], _VOWELS.sub("", word[1:])
        if head in "aeiouy":
            head = "a"  # initial vowels vary most between transliterations
        words.append(_REPEATS.sub(r"\1", head + rest))
    return " ".join(words)


def search_keys(*names: str) -> str:
    """The text stored for search: folded names and their skeletons, space separated."""
    keys: list[str] = []
    for name in names:
        if not name:
            continue
        for key in (fold(name), skeleton(name)):
            if key and key not in keys:
                keys.append(key)
    return " | ".join(keys)


def similarity(a: str, b: str) -> float:
    """0–100: how alike two full names are, order of words ignored, across scripts."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    folded = fuzz.token_sort_ratio(fa, fb)
    skel = fuzz.token_sort_ratio(skeleton(a), skeleton(b))
    return float(max(folded, skel))
