"""Bring the app's ``.po`` catalogs in step with the code: ``python -m mobile.locale.update``.

Every ``tr._("…")`` message in ``mobile/`` (Python and ``.kv``) gets an entry in each
language's catalog; translations already there are kept, new messages arrive untranslated
(the i18n test lists them), messages no longer used are dropped.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from omnifit.i18n import LANGUAGES, extract_messages

PACKAGE = Path(__file__).resolve().parents[1]
DOMAIN = "mobile"


def po_path(lang: str) -> Path:
    return PACKAGE / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def update(lang: str, messages: list[str]) -> Path:
    path = po_path(lang)
    known: dict[str, str] = {}
    if path.is_file():
        with path.open("rb") as handle:
            known = {m.id: m.string for m in read_po(handle, locale=lang) if m.id and isinstance(m.string, str)}
    catalog = Catalog(locale=lang, domain=DOMAIN, project="Omnifit mobile", charset="utf-8")
    for message in messages:
        catalog.add(message, "" if lang == "en" else known.get(message, ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, sort_output=False)
    return path


def main() -> None:
    messages = list(dict.fromkeys(extract_messages(PACKAGE)))
    for lang in LANGUAGES:
        print(update(lang, messages))


if __name__ == "__main__":
    main()
