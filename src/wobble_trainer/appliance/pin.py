"""The clinician PIN: a salted slow hash, a constant-time check, and a lockout policy.

The clinician screens (patient records, test results, settings) sit behind a short numeric PIN
typed on the touchscreen. Two separate protections:

1. **Stored form.** Only a salted ``scrypt`` hash is kept in the config file
   (:meth:`PinHash.to_string`, a PHC-style string ``$scrypt$ln=14,r=8,p=1$<salt>$<hash>``).

   Why scrypt, and these parameters: scrypt is memory-hard (it needs ``128·r·N`` bytes, here
   16 MiB), so guessing many PINs in parallel on a GPU costs memory per guess, where PBKDF2 only
   costs arithmetic that GPUs are very good at. It is in Python's standard library (``hashlib``,
   through OpenSSL), so the appliance needs no compiled extra. ``N = 2**14, r = 8, p = 1`` is the
   classic *interactive-login* setting of scrypt's author (RFC 7914 §2 / Percival 2009). It takes
   about 0.05-0.1 s on a current x86 core (measured: ``python -m wobble_trainer.appliance.pin``);
   a Pi 4 (Cortex-A72, 1.5-1.8 GHz, slower memory) is expected to take roughly 3-4 times as
   long, about 0.2-0.35 s, and a Pi 5 about half of that; a Zero 2 W (Cortex-A53, 1 GHz) near the
   0.5 s ceiling. Those Pi figures are estimates: run the same command on the device and, if it
   is outside 0.1-0.5 s, choose ``ln`` (13 or 15) with :func:`hash_pin`; stored hashes keep their
   own parameters, so old and new hashes both verify. 16 MiB is harmless even on the Zero 2 W's
   512 MB.

   Honest limit: a 4-8 digit PIN has at most 10⁸ values, so a slow hash only buys time against
   someone who copies the file (10⁴ PINs x 0.3 s is under an hour on one Pi core). The file's
   permissions (the service's ``StateDirectory`` is mode 0700) are the first line of defence.

2. **Online guessing.** :class:`PinGate` counts failed tries and, after
   ``LockoutPolicy.free_attempts`` of them, refuses every try (without hashing anything) for a
   delay that doubles with each further failure, up to a cap. A correct PIN resets the count.
   Time comes from an injected :class:`~wobble_trainer.clock.Clock`. Because a monotonic clock
   restarts at boot, the failure count can be saved (:attr:`PinGate.failures`) and handed back
   to a new gate, which then starts locked: pulling the plug does not buy fresh tries.

Comparison of the derived keys uses :func:`hmac.compare_digest` (constant time).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass, field

from wobble_trainer.clock import Clock

__all__ = [
    "ScryptParams",
    "DEFAULT_PARAMS",
    "PinHash",
    "PinFormatError",
    "hash_pin",
    "verify_pin",
    "validate_pin",
    "LockoutPolicy",
    "AttemptResult",
    "PinGate",
    "MIN_PIN_LENGTH",
    "MAX_PIN_LENGTH",
]

MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 8
SALT_BYTES = 16
KEY_BYTES = 32

# Bounds for parameters read back from a config file: a hand-edited or corrupted file must not
# make the kiosk allocate gigabytes or spin for minutes.
_MIN_LOG2_N = 1
_MAX_LOG2_N = 20
_MAX_R = 32
_MAX_P = 16
_MAXMEM_BYTES = 256 * 1024 * 1024


class PinFormatError(ValueError):
    """A PIN or a stored PIN hash is not in the expected form."""


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters: ``N = 2**log2_n`` (CPU and memory), block size ``r``, ``p``.

    Memory needed: ``128 · r · N`` bytes (16 MiB for the defaults).
    """

    log2_n: int = 14
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not _MIN_LOG2_N <= self.log2_n <= _MAX_LOG2_N:
            raise PinFormatError(f"scrypt ln={self.log2_n} outside {_MIN_LOG2_N}..{_MAX_LOG2_N}")
        if not 1 <= self.r <= _MAX_R:
            raise PinFormatError(f"scrypt r={self.r} outside 1..{_MAX_R}")
        if not 1 <= self.p <= _MAX_P:
            raise PinFormatError(f"scrypt p={self.p} outside 1..{_MAX_P}")

    @property
    def n(self) -> int:
        """scrypt's N."""
        return 1 << self.log2_n

    @property
    def memory_bytes(self) -> int:
        """Working memory of one hash, bytes."""
        return 128 * self.r * self.n


DEFAULT_PARAMS = ScryptParams()


def _b64encode(data: bytes) -> str:
    # PHC string format: standard base64 alphabet without padding.
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9+/]*", text):
        raise PinFormatError(f"not base64: {text!r}")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError as exc:
        raise PinFormatError(f"not base64: {text!r}") from exc


def _derive(pin: str, salt: bytes, params: ScryptParams, length: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        dklen=length,
        maxmem=_MAXMEM_BYTES,
    )


@dataclass(frozen=True)
class PinHash:
    """A stored PIN: scrypt parameters, salt and derived key."""

    params: ScryptParams
    salt: bytes
    key: bytes

    _PATTERN = re.compile(
        r"\$scrypt\$ln=(?P<ln>\d{1,2}),r=(?P<r>\d{1,3}),p=(?P<p>\d{1,3})"
        r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<key>[A-Za-z0-9+/]+)"
    )

    def __post_init__(self) -> None:
        if len(self.salt) < 8:
            raise PinFormatError(f"salt too short ({len(self.salt)} bytes, need ≥ 8)")
        if len(self.key) < 16:
            raise PinFormatError(f"derived key too short ({len(self.key)} bytes, need ≥ 16)")

    def to_string(self) -> str:
        """The config-file form: ``$scrypt$ln=14,r=8,p=1$<salt b64>$<key b64>``."""
        p = self.params
        salt, key = _b64encode(self.salt), _b64encode(self.key)
        return f"$scrypt$ln={p.log2_n},r={p.r},p={p.p}${salt}${key}"

    @classmethod
    def parse(cls, text: str) -> PinHash:
        """Read :meth:`to_string`'s form back; :class:`PinFormatError` if malformed."""
        match = cls._PATTERN.fullmatch(text.strip())
        if match is None:
            raise PinFormatError("not a '$scrypt$ln=..,r=..,p=..$salt$key' PIN hash")
        params = ScryptParams(int(match["ln"]), int(match["r"]), int(match["p"]))
        return cls(params, _b64decode(match["salt"]), _b64decode(match["key"]))

    def matches(self, pin: str) -> bool:
        """True when ``pin`` is the stored PIN (slow by design; constant-time comparison)."""
        candidate = _derive(pin, self.salt, self.params, len(self.key))
        return hmac.compare_digest(candidate, self.key)


def validate_pin(pin: str) -> None:
    """Raise :class:`PinFormatError` unless ``pin`` is 4-8 ASCII digits (a new PIN's rules)."""
    if not (MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH) or not re.fullmatch(r"[0-9]+", pin):
        raise PinFormatError(f"a PIN is {MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits (0-9)")


def hash_pin(pin: str, params: ScryptParams = DEFAULT_PARAMS, salt: bytes | None = None) -> PinHash:
    """Hash a new PIN (validated by :func:`validate_pin`) with a fresh random salt."""
    validate_pin(pin)
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    return PinHash(params, salt, _derive(pin, salt, params, KEY_BYTES))


def verify_pin(pin: str, stored: PinHash | str) -> bool:
    """True when ``pin`` matches ``stored`` (a :class:`PinHash` or its string form).

    Any input is hashed, even one that could never be a PIN, so the time taken does not reveal
    whether the input was well formed.
    """
    stored_hash = PinHash.parse(stored) if isinstance(stored, str) else stored
    return stored_hash.matches(pin)


@dataclass(frozen=True)
class LockoutPolicy:
    """How long to refuse tries after failures.

    The first ``free_attempts`` failures cost nothing; the next failure locks for
    ``first_delay_s``; each further failure doubles (``growth``) the delay, up to ``max_delay_s``.
    Defaults: 3 free tries, then 30 s, 60 s, 120 s, ... capped at 15 minutes, so a clinician who
    mistypes is slowed a little and 10⁴ blind guesses take months.
    """

    free_attempts: int = 3
    first_delay_s: float = 30.0
    growth: float = 2.0
    max_delay_s: float = 900.0

    def __post_init__(self) -> None:
        if self.free_attempts < 1:
            raise ValueError("free_attempts must be at least 1")
        if self.first_delay_s <= 0 or self.max_delay_s < self.first_delay_s:
            raise ValueError("need 0 < first_delay_s <= max_delay_s")
        if self.growth < 1.0:
            raise ValueError("growth must be >= 1 (delays never shrink)")

    def delay_after(self, failures: int) -> float:
        """Seconds locked after ``failures`` consecutive failed tries."""
        if failures < self.free_attempts:
            return 0.0
        steps = failures - self.free_attempts
        # Stop multiplying once past the cap: 2.0**10_000 would overflow a float.
        delay = self.first_delay_s
        for _ in range(steps):
            delay *= self.growth
            if delay >= self.max_delay_s:
                return self.max_delay_s
        return min(delay, self.max_delay_s)


@dataclass(frozen=True)
class AttemptResult:
    """What happened to one PIN try.

    ``accepted``: the PIN was right. ``locked``: the try was refused unchecked because of an
    earlier lockout. ``retry_after_s``: seconds until the next try will be checked (0: now).
    ``failures``: consecutive failures so far.
    """

    accepted: bool
    locked: bool
    retry_after_s: float
    failures: int


@dataclass
class PinGate:
    """Checks PIN tries against a stored hash and enforces a :class:`LockoutPolicy`.

    ``failures`` may be restored from saved state; if it is at or past the free tries, the gate
    starts locked for the delay that count earns (measured from construction).
    """

    stored: PinHash
    clock: Clock
    policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    failures: int = 0
    _locked_until: float = field(init=False, default=float("-inf"))

    def __post_init__(self) -> None:
        if self.failures < 0:
            raise ValueError("failures cannot be negative")
        delay = self.policy.delay_after(self.failures)
        if delay > 0:
            self._locked_until = self.clock.now() + delay

    def retry_after(self) -> float:
        """Seconds until a try will be checked (0 when not locked)."""
        return max(0.0, self._locked_until - self.clock.now())

    @property
    def locked(self) -> bool:
        """True while tries are refused."""
        return self.retry_after() > 0

    def attempt(self, pin: str) -> AttemptResult:
        """Try ``pin``: refused unchecked while locked, else checked and counted."""
        wait = self.retry_after()
        if wait > 0:
            return AttemptResult(False, True, wait, self.failures)
        if self.stored.matches(pin):
            self.failures = 0
            self._locked_until = float("-inf")
            return AttemptResult(True, False, 0.0, 0)
        self.failures += 1
        delay = self.policy.delay_after(self.failures)
        # Measured from the moment the check finished, so the hash time is not part of the wait.
        self._locked_until = self.clock.now() + delay if delay > 0 else float("-inf")
        return AttemptResult(False, False, delay, self.failures)

    def change_pin(self, current: str, new: str, params: ScryptParams = DEFAULT_PARAMS) -> bool:
        """Replace the PIN if ``current`` is accepted (same lockout rules); True on success."""
        validate_pin(new)
        if not self.attempt(current).accepted:
            return False
        self.stored = hash_pin(new, params)
        return True


def _benchmark(repeats: int = 5) -> None:
    """Print the time of one PIN check with the default parameters (run it on the Pi)."""
    stored = hash_pin("0000")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        stored.matches("1234")
        times.append(time.perf_counter() - start)
    times.sort()
    p = DEFAULT_PARAMS
    print(
        f"scrypt ln={p.log2_n} r={p.r} p={p.p} ({p.memory_bytes / 2**20:.0f} MiB): "
        f"median {times[len(times) // 2] * 1000:.0f} ms, min {times[0] * 1000:.0f} ms "
        f"over {repeats} checks (target 100-500 ms on the Pi)"
    )


if __name__ == "__main__":
    _benchmark()
