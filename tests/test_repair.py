"""Repairing mangled text: exactly the damage the data has, and nothing that is fine."""

from __future__ import annotations

import pytest

from sparkify.warehouse.repair import fix


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("BjÃ\x83Â¶rk", "Björk"),  # UTF-8 read as Latin-1, twice
        ("SÃ\x83Â¥ng", "Sång"),
        ("Cafe\u0301", "Café"),  # normalised to NFC
        ("CafÃ©", "Café"),  # once
        ("Don\x19t Stop", "Don't Stop"),  # a control character where an apostrophe belongs
    ],
)
def test_fixes_mangled_text(raw: str, fixed: str) -> None:
    assert fix(raw) == fixed


@pytest.mark.parametrize("fine", ["Björk", "Sigur Rós", "Beyoncé", "Mötley Crüe", "東京事変", "plain ASCII", "À la"])
def test_leaves_good_text_alone(fine: str) -> None:
    assert fix(fine) == fine
