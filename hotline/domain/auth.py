"""Passwords (argon2), API tokens and the signed-in principal."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline.domain.vocabulary import STAFF_ROLES

# Production hashes with argon2's recommended parameters. The test suite sets
# HOTLINE_TEST_CHEAP_HASH=1 (tests/conftest.py) because ~1,000 tests each create accounts and a
# strong hash costs ~0.2 s of CPU apiece; a hash made cheaply still verifies under the strong
# hasher (argon2 stores its parameters in the hash), and start-up warns when the switch is set.
CHEAP_HASH_ENV = "HOTLINE_TEST_CHEAP_HASH"
_STRONG = PasswordHasher()
_CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _hasher() -> PasswordHasher:
    return _CHEAP if os.environ.get(CHEAP_HASH_ENV) == "1" else _STRONG


def cheap_hashing_enabled() -> bool:
    """Whether the test suite's cheap password hashing is switched on (never in production)."""
    return _hasher() is _CHEAP


ROLES = tuple(r.value for r in STAFF_ROLES)  # an account's role


@dataclass(frozen=True)
class Principal:
    """Who is making a request."""

    user_id: int
    username: str
    display_name: str
    role: str
    unit_id: int | None
    unit_code: str | None


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh API token to show the user once."""
    return "hl_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a token: its SHA-256, so a leaked table leaks no tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A random password for demo and generated accounts."""
    return secrets.token_urlsafe(9)
