"""`make i18n`: the message catalogues, with Babel.

    python scripts/i18n.py update    # .pot from the source messages; merge it into every .po
    python scripts/i18n.py compile   # .po -> .mo (the files the function reads)
    python scripts/i18n.py check     # exit 1 if a .po is stale, incomplete or not compiled

The msgids are the English texts of ``catalog.EN`` and ``guidance.prose()``
(``responder.domain.catalog.source_messages``): data tables, not ``_()`` calls, so they are
collected by importing the code rather than by scanning it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from responder.domain.catalog import source_messages
from responder.domain.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

POT = LOCALE_DIR / f"{DOMAIN}.pot"


HEADER = {
    "project": "GuardDuty Responder",
    "version": "1",
    "copyright_holder": "GuardDuty Responder contributors",
    "msgid_bugs_address": "the project's issue tracker",
    "last_translator": "GuardDuty Responder team",
    "language_team": "GuardDuty Responder team",
    "header_comment": "# Messages of GuardDuty Responder's emails. English is the source language.\n"
    "# Edit the translations here, then run `make i18n`.",
}


def template() -> Catalog:
    catalog = Catalog(domain=DOMAIN, charset="utf-8", **HEADER)
    for text in source_messages():
        catalog.add(text, flags=("python-brace-format",) if "{" in text else ())
    return catalog


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def dump_po(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=False, include_previous=True)
    return buffer.getvalue()


def dump_mo(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def update() -> None:
    pot = template()
    POT.write_bytes(dump_po(pot))
    for lang in LANGUAGES[1:]:
        path = po_path(lang)
        if path.exists():
            catalog = read(path, lang)
            catalog.update(pot, no_fuzzy_matching=False)
            for name, value in HEADER.items():
                setattr(catalog, name, value)
            catalog.fuzzy = False  # the header is maintained here, not a draft
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, domain=DOMAIN, charset="utf-8", **HEADER)
            catalog.update(pot)
        path.write_bytes(dump_po(catalog))


def compile_all() -> None:
    for lang in LANGUAGES[1:]:
        path = po_path(lang)
        path.with_suffix(".mo").write_bytes(dump_mo(read(path, lang)))


def problems() -> list[str]:
    """Why the catalogues are not ready, or nothing."""
    found = []
    wanted = source_messages()
    for lang in LANGUAGES[1:]:
        path = po_path(lang)
        catalog = read(path, lang)
        for text in wanted:
            message = catalog.get(text)
            if message is None:
                found.append(f"{lang}: no entry for {text[:60]!r} (run make i18n)")
            elif not message.string or message.fuzzy:
                found.append(f"{lang}: no translation for {text[:60]!r}")
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != dump_mo(catalog):
            found.append(f"{lang}: {mo.name} is not compiled from {path.name} (run make i18n)")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        issues = problems()
        print("\n".join(issues) or "catalogues complete", file=sys.stderr)
        return 1 if issues else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
