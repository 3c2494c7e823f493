"""Translations: gettext message catalogues (``locale/<lang>/LC_MESSAGES/responder.mo``).

English is the source language: a msgid is the English text itself (a catalogue label in
``catalog.EN`` or a sentence of ``guidance``). The ``.po`` files are edited and compiled
with Babel (``make i18n``, scripts/i18n.py); at run time the standard library reads the
compiled ``.mo``. A missing translation falls back to English, and a test makes sure none
is missing.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

DOMAIN: Final = "responder"
LOCALE_DIR: Final = Path(__file__).parent / "locale"
LANGUAGES: Final = ("en", "ja")  # "en" is the source: it has no catalogue


@dataclass(frozen=True)
class Locale:
    """Whom an email speaks to: their language and the time zone shown next to UTC.

    Built once from the settings (``Settings.locale``) and handed to everything that renders.
    """

    lang: str = "en"
    zone: str | None = None  # an IANA zone the time zone database has; None: UTC only


@cache
def translator(lang: str) -> Callable[[str], str]:
    """``gettext`` for a language; English (and only English) is the identity."""
    if lang == "en":
        return _identity
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang[:10]!r}")
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang]).gettext


def _identity(text: str) -> str:
    return text
