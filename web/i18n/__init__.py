"""UI string catalogues, one JSON file per language; zh-CN is the default and the fallback."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import orjson

DEFAULT = "zh-CN"
LANGS = ("zh-CN", "en")
_DIR = Path(__file__).resolve().parent


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Flat key → string map; keys missing from a language fall back to zh-CN."""
    base = orjson.loads((_DIR / f"{DEFAULT}.json").read_bytes())
    if lang == DEFAULT:
        return base
    return {**base, **orjson.loads((_DIR / f"{lang}.json").read_bytes())}


def pick_lang(query: str | None, cookie: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate  # type: ignore[return-value]
    return DEFAULT
