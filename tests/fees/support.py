"""A tariff published after the shipped ones, the way docs/fees.md says to add one."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from kiosk.fees import TariffBook, default_tariffs_dir, load_tariffs

LATEST = "2026-12-05"


def with_newer_tariff(folder: Path, day: date, *, fixed_tax: int) -> TariffBook:
    """The shipped tariffs plus ``tarif.<day>.toml``, a copy of the latest with another taxe
    fixe (Y.4, in cents); the latest then ends the day before, as an update does."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in default_tariffs_dir().glob("tarif.*.toml"):
        shutil.copy(path, folder / path.name)
    latest = folder / f"tarif.{LATEST}.toml"
    text = latest.read_text(encoding="utf-8")
    start = f"en_vigueur_du = {LATEST}\n"
    assert start in text
    end = (day - timedelta(days=1)).isoformat()
    latest.write_text(text.replace(start, f"{start}en_vigueur_jusqu_au = {end}\n"), "utf-8")
    newer = text.replace(f'version = "{LATEST}"', f'version = "{day.isoformat()}"')
    newer = newer.replace(start, f"en_vigueur_du = {day.isoformat()}\n")
    assert "[taxe_fixe]  # Y.4\nmontant = 1100\n" in newer
    newer = newer.replace(
        "[taxe_fixe]  # Y.4\nmontant = 1100\n", f"[taxe_fixe]  # Y.4\nmontant = {fixed_tax}\n"
    )
    (folder / f"tarif.{day.isoformat()}.toml").write_text(newer, encoding="utf-8")
    book = load_tariffs(folder)
    assert not book.errors, [str(e) for e in book.errors]
    return book
