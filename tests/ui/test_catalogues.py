"""The screens' own catalogues (``assets/translations``): every French key has its English and
Arabic sentence, with the same placeholders, so no screen falls back to French mid-sentence."""

from __future__ import annotations

import json

import pytest

from kiosk.messages import placeholders
from kiosk.settings.paths import assets_dir


def _catalogue(lang: str) -> dict[str, str]:
    path = assets_dir() / "translations" / f"{lang}.json"
    return {str(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_screen_text_is_translated_with_the_same_placeholders(lang: str) -> None:
    french, other = _catalogue("fr"), _catalogue(lang)
    assert sorted(set(french) - set(other)) == []  # missing
    assert sorted(set(other) - set(french)) == []  # left over
    assert [k for k, v in other.items() if not v.strip()] == []
    drifted = [k for k in french if placeholders(french[k]) != placeholders(other[k])]
    assert drifted == []
