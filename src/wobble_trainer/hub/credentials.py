"""Hashing what the hub must check but never keep: passwords, board secrets, tokens, codes.

* **Passwords** (chosen by people, low entropy): scrypt from the standard library, memory-hard
  (n = 2^15, r = 8, p = 1: 32 MiB and tens of milliseconds per check), with a random 16-byte salt,
  stored as ``scrypt$n$r$p$salt$hash``. It is one of the password hashes OWASP recommends and
  needs no extra dependency; the parameters travel with each hash, so they can be raised later
  without invalidating old ones.
* **Board secrets, login-session tokens** (256 random bits) and **enrolment codes** (60 random
  bits, valid for minutes, used once): a plain SHA-256 digest. Nobody can guess the value, so a
  slow hash would add nothing; a stolen database still does not reveal a usable secret.

Comparisons use :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Enrolment-code letters: no 0/O, 1/I, easy to type on a touchscreen."""
CODE_LENGTH = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``, with its parameters."""
    if len(password) < 8:
        raise ValueError("a clinician's password needs at least 8 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
        dklen=32,
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches a :func:`hash_password` hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def new_token() -> str:
    """A 256-bit random token, URL-safe text."""
    return secrets.token_urlsafe(32)


def new_code() -> str:
    """A one-time enrolment code like ``ABCD-EFGH-JKLM`` (60 random bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    """A code as typed (any case, spaces or dashes) in its canonical form."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def digest(value: str) -> str:
    """SHA-256 hex digest of a random secret, token or code (see above for why not slow)."""
    return hashlib.sha256(value.encode()).hexdigest()


def same_digest(value: str, stored: str | None) -> bool:
    """True if ``value`` hashes to ``stored`` (constant time)."""
    return stored is not None and hmac.compare_digest(digest(value), stored)
