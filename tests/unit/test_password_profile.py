"""Production hashes passwords with argon2's strong parameters; the cheap ones are opt-in."""

from __future__ import annotations

import pytest

from hotline.domain import auth


def test_production_hashes_with_the_strong_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.CHEAP_HASH_ENV, raising=False)
    h = auth.hash_password("secret-password")
    # argon2-cffi's RFC 9106 low-memory profile: 64 MiB, 3 passes, 4 lanes.
    assert "$m=65536,t=3,p=4$" in h
    assert not auth.cheap_hashing_enabled()
    assert auth.verify_password(h, "secret-password")


def test_a_cheap_hash_still_verifies_without_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.CHEAP_HASH_ENV, "1")
    h = auth.hash_password("secret-password")
    assert "$m=8,t=1,p=1$" in h
    monkeypatch.delenv(auth.CHEAP_HASH_ENV)
    assert auth.verify_password(h, "secret-password")
    assert not auth.verify_password(h, "wrong-password")
