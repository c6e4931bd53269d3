"""User-facing text in Chinese and English, chosen by ``JINGCE_LANG`` (zh, en or both)."""

from __future__ import annotations

import os


def t(en: str, zh: str, lang: str | None = None) -> str:
    """Pick the text for the language setting; ``both`` shows ``中文 / English``."""
    lang = lang or os.environ.get("JINGCE_LANG", "both")
    if lang == "en":
        return en
    if lang == "zh":
        return zh
    return f"{zh} / {en}"
