"""Kiosk mode: the trainer as an appliance nobody can leave without the clinician PIN.

``wobble --kiosk`` (or ``[kiosk] enabled = true`` in the config) runs full screen with the
mouse cursor hidden. Every way out a patient might find — Esc, Alt-F4 and the window's close
button (``pygame.QUIT``), Ctrl-Q, Ctrl-C typed on the console (a key event when SDL owns the
keyboard, SIGINT otherwise), Ctrl-\\ (SIGQUIT), Ctrl-Z (SIGTSTP) — is an *escape attempt*: it is
logged and opens the PIN pad; only the right PIN lets the trainer quit. systemd's SIGTERM (and a
hang-up) still stops it cleanly: that is the operating system, not a patient.

The pieces:

- :class:`PinStore`: the clinician PIN as a salted scrypt hash (:mod:`wobble_trainer.appliance.pin`)
  plus the count of failed tries, in ``clinician-pin`` in the state directory, written atomically.
  No file yet: the first start asks for a new PIN (entered twice) before anyone can train.
- :class:`Kiosk`: owns the PIN gate (lockout with growing delays on an injected clock), the
  clinician's unlocked state, the inactivity timer that logs a patient out back to profile
  selection (or home) behind the attract screen, and the hooks the app loop calls.
- :class:`PinPadScene` (touch keypad, digits on a keyboard too), :class:`AttractScene` ("Step on
  the board to start", animated).
- :class:`ServiceLink`: the systemd side of the loop (``READY=1`` once the sensor is up and the
  first frame drawn, ``WATCHDOG=1`` only while the sampler is healthy, ``STATUS=``, ``STOPPING=1``).

Patients see only their own data. A patient reaches their own profile by its patient code
(:class:`~wobble_trainer.app.scenes.patient_code.PatientCodeScene`, never a list of everybody),
or the clinician picks the patient behind the PIN before handing over. Scenes that are the
clinician's (``clinician_only = True``: profile editing, clinical-test and protocol settings,
exports, guest sessions, the clinician menu) are admitted by :meth:`Kiosk.admit` only once the
PIN has been given, whichever way they are reached; the clinician is locked again as soon as no
clinician screen is left on the stack. Screens that read or write a profile's data ask
:func:`can_see_profile` (true outside kiosk mode).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import logging
import math
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pygame

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import (
    ACCENT,
    BACKGROUND,
    GREEN,
    HIGHLIGHT,
    MUTED,
    PANEL,
    RED,
    TEXT,
    Layout,
)
from wobble_trainer.app.scene import AppContext, Scene, Tick
from wobble_trainer.app.widgets import draw_tilt_view
from wobble_trainer.appliance.notify import Notifier, Watchdog
from wobble_trainer.appliance.pin import (
    DEFAULT_PARAMS,
    MAX_PIN_LENGTH,
    MIN_PIN_LENGTH,
    AttemptResult,
    LockoutPolicy,
    PinFormatError,
    PinGate,
    PinHash,
    ScryptParams,
    hash_pin,
    validate_pin,
)
from wobble_trainer.clock import Clock, MonotonicClock
from wobble_trainer.files import write_atomically
from wobble_trainer.tilt.board_angles import angles_from_up, up_from_pitch_roll
from wobble_trainer.units import DEG

log = logging.getLogger(__name__)

PIN_FILE_NAME = "clinician-pin"
"""The PIN file in the state directory (mode 0600 inside the service's 0700 directory)."""

PROFILE_SELECT = ("wobble_trainer.app.scenes.patient_code", "PatientCodeScene")
"""Where a logged-out patient lands: "Who is training?" by patient code (home when absent)."""

FIRST_PIN_TITLE = "Set the clinic's clinician PIN"
FIRST_PIN_HINT = (
    "First start: the PIN you choose now becomes the clinic's clinician PIN. It opens the "
    "clinician menu, patients' profiles and exports, and lets the trainer be left. Only the "
    "clinic's staff should set it (or set it beforehand with `wobble pin set`)."
)


# -- settings -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KioskSettings:
    """The ``[kiosk]`` section of the config file."""

    enabled: bool = False
    """Start in kiosk mode even without ``--kiosk``."""
    inactivity_s: float = 120.0
    """Nobody on the board and no touch, key or button for this long: the patient is logged out
    and the attract screen shows."""
    clinician_timeout_s: float = 300.0
    """An unlocked clinician menu left alone this long locks again (and logs out)."""
    step_on_s: float = 2.5
    """Someone on the board this long leaves the attract screen. Longer than the presence
    detector's 2 s, so an empty board resting on its rim at start-up does not count."""

    def __post_init__(self) -> None:
        for name in ("inactivity_s", "clinician_timeout_s", "step_on_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"[kiosk] {name} must be a positive number of seconds")


def kiosk_settings(config: Any) -> KioskSettings:
    """The kiosk settings of a loaded config, read defensively.

    Accepts a ``kiosk`` attribute (a :class:`KioskSettings`, a mapping or an object with the same
    names) or flat ``kiosk_<name>`` attributes on the config; anything missing takes its default,
    anything unusable is logged and replaced by its default, so a config that predates kiosk
    mode still starts.
    """
    section = getattr(config, "kiosk", None)
    if isinstance(section, KioskSettings):
        return section
    values: dict[str, Any] = {}
    if isinstance(section, Mapping):
        values.update(section)
    elif section is not None:
        values.update({f.name: getattr(section, f.name) for f in fields(KioskSettings)
                       if hasattr(section, f.name)})  # fmt: skip
    for f in fields(KioskSettings):
        flat = getattr(config, f"kiosk_{f.name}", None)
        if flat is not None and f.name not in values:
            values[f.name] = flat
    chosen: dict[str, Any] = {}
    defaults = KioskSettings()
    for f in fields(KioskSettings):
        if f.name not in values:
            continue
        value = values[f.name]
        ok = isinstance(value, bool) if f.name == "enabled" else (
            isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0
        )  # fmt: skip
        if ok:
            chosen[f.name] = value
        else:
            log.warning(
                "[kiosk] %s = %r is not usable; using %r", f.name, value, getattr(defaults, f.name)
            )
    return KioskSettings(**chosen)


# -- the PIN file ---------------------------------------------------------------------------------
class PinFileError(RuntimeError):
    """The PIN file exists but cannot be read back; the message says how to reset it."""


@dataclass
class PinRecord:
    """What the PIN file holds: the hash and the consecutive failed tries (survives reboots, so
    pulling the plug does not buy fresh tries)."""

    pin_hash: PinHash
    failures: int = 0


class PinStore:
    """The clinician PIN on disk: ``{"hash": "$scrypt$...", "failures": N}``."""

    def __init__(self, path: Path, params: ScryptParams = DEFAULT_PARAMS) -> None:
        """``params``: scrypt cost for new PINs (tests pass a cheap one; stored hashes keep
        their own)."""
        self.path = Path(path)
        self.params = params

    @classmethod
    def in_state_dir(cls, directory: Path, params: ScryptParams = DEFAULT_PARAMS) -> PinStore:
        return cls(Path(directory) / PIN_FILE_NAME, params)

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> PinRecord | None:
        """The stored PIN, None when none was set; :class:`PinFileError` when it is damaged."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PinFileError(self._damaged(f"cannot be read ({exc})")) from exc
        try:
            data = json.loads(text)
            failures = data.get("failures", 0)
            if not isinstance(failures, int) or isinstance(failures, bool):
                raise ValueError(f"the failure count {failures!r} is not a whole number")
            record = PinRecord(PinHash.parse(str(data["hash"])), failures)
        except (ValueError, KeyError, TypeError, AttributeError, PinFormatError) as exc:
            raise PinFileError(self._damaged(f"is damaged ({exc})")) from exc
        except RecursionError as exc:
            raise PinFileError(self._damaged("is damaged (nested far too deeply)")) from exc
        if record.failures < 0:
            raise PinFileError(self._damaged("holds a negative failure count"))
        return record

    def _damaged(self, what: str) -> str:
        return (
            f"The clinician PIN file {self.path} {what}. To set a new PIN, remove it "
            f"(sudo rm {self.path}) and restart the trainer."
        )

    def save(self, record: PinRecord) -> None:
        payload = {"hash": record.pin_hash.to_string(), "failures": int(record.failures)}
        write_atomically(self.path, json.dumps(payload) + "\n", mode=0o600)

    def set_pin(self, pin: str) -> PinRecord:
        """Hash and store a new PIN (4-8 digits; :class:`PinFormatError` otherwise)."""
        record = PinRecord(hash_pin(pin, self.params), 0)
        self.save(record)
        return record


# -- power ----------------------------------------------------------------------------------------
CommandRunner = Callable[[list[str]], Any]
"""Runs a command (``subprocess.run``-like: returns something with ``returncode``/``stderr``)."""


def _run_command(argv: list[str]) -> Any:
    import subprocess

    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


@dataclass
class PowerControl:
    """Shut down or reboot the Pi through systemd. The command runner is injectable: tests record
    the command and never run it."""

    run: CommandRunner = _run_command
    commands: list[list[str]] = field(default_factory=list)

    def _do(self, argv: list[str]) -> tuple[bool, str]:
        self.commands.append(argv)
        try:
            result = self.run(argv)
        except (OSError, TimeoutError) as exc:
            return False, f"{' '.join(argv)} failed: {exc}"
        code = getattr(result, "returncode", 0)
        if code:
            detail = (getattr(result, "stderr", "") or "").strip() or f"exit code {code}"
            return False, f"{' '.join(argv)} failed: {detail}"
        return True, ""

    def poweroff(self) -> tuple[bool, str]:
        return self._do(["systemctl", "poweroff"])

    def reboot(self) -> tuple[bool, str]:
        return self._do(["systemctl", "reboot"])


# -- patient codes --------------------------------------------------------------------------------
class CodeAttempts:
    """Wrong patient codes cost growing waits (the PIN's :class:`LockoutPolicy`), so nobody
    walks the million codes at the screen to find another patient's profile."""

    def __init__(self, clock: Clock, policy: LockoutPolicy) -> None:
        self.clock = clock
        self.policy = policy
        self.failures = 0
        self._retry_at = 0.0

    def retry_after(self) -> float:
        """Seconds until the next code will be checked (0: now)."""
        return max(0.0, self._retry_at - self.clock.now())

    def failed(self) -> float:
        """Count a wrong code; returns the wait it earned (s)."""
        self.failures += 1
        delay = self.policy.delay_after(self.failures)
        self._retry_at = self.clock.now() + delay
        log.warning("kiosk: wrong patient code (%d in a row)", self.failures)
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self._retry_at = 0.0


# -- the kiosk ------------------------------------------------------------------------------------
class Kiosk:
    """Kiosk state and the hooks the app loop calls (see :class:`~wobble_trainer.app.shell.
    TrainerApp`): :meth:`filter_event` before a scene sees an event, :meth:`update` every logic
    step, :meth:`guard` every frame, :meth:`render_overlay` before the flip, and
    :meth:`signal_handlers` while the loop runs."""

    def __init__(
        self,
        app: AppContext,
        *,
        store: PinStore,
        settings: KioskSettings | None = None,
        clock: Clock | None = None,
        policy: LockoutPolicy | None = None,
        power: PowerControl | None = None,
        sampler_stats: Callable[[], Mapping[str, float]] | None = None,
        sampler_info: Callable[[], Mapping[str, Any]] | None = None,
        home_factory: Callable[[AppContext], Scene] | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.settings = settings or KioskSettings(enabled=True)
        self.clock: Clock = clock or MonotonicClock()
        self.policy = policy or LockoutPolicy()
        self.power = power or PowerControl()
        self.sampler_stats = sampler_stats
        self.sampler_info = sampler_info
        self.home_factory = home_factory
        self.clinician_unlocked = False
        self.exit_allowed = False
        self.stop_reason = ""
        self.idle_s = 0.0
        self.escape_attempts: list[str] = []
        self.pin_error = ""
        """Why the PIN cannot be checked (damaged file), shown instead of the keypad."""
        self._gate: PinGate | None = None
        self.codes = CodeAttempts(self.clock, self.policy)
        """Wrong patient codes typed at "Who is training?"."""
        self._pending: list[str] = []
        self._corner = pygame.Rect(0, 0, 0, 0)
        self._load_gate()
        app.kiosk = self  # type: ignore[attr-defined]  # AppContext has no field for it (yet)

    # -- PIN ----------------------------------------------------------------------------------
    def _load_gate(self) -> None:
        try:
            record = self.store.load()
        except PinFileError as exc:
            self.pin_error = str(exc)
            log.error("%s", exc)
            self._gate = None
            return
        self.pin_error = ""
        self._gate = (
            None
            if record is None
            else PinGate(record.pin_hash, self.clock, self.policy, failures=record.failures)
        )

    @property
    def has_pin(self) -> bool:
        return self._gate is not None

    def retry_after(self) -> float:
        """Seconds until a PIN try will be checked (0: now)."""
        return self._gate.retry_after() if self._gate is not None else 0.0

    def try_pin(self, pin: str) -> AttemptResult:
        """Check ``pin`` through the lockout gate; the failure count is saved after each try."""
        if self._gate is None:
            raise RuntimeError(self.pin_error or "no clinician PIN has been set")
        before = self._gate.failures
        result = self._gate.attempt(pin)
        if self._gate.failures != before:
            try:
                self.store.save(PinRecord(self._gate.stored, self._gate.failures))
            except OSError as exc:  # a full disk must not open the door or crash the kiosk
                log.error("could not save the PIN failure count: %s", exc)
        if result.accepted:
            log.info("kiosk: clinician PIN accepted")
        elif not result.locked:
            log.warning("kiosk: wrong clinician PIN (%d in a row)", result.failures)
        return result

    def set_pin(self, pin: str) -> None:
        """Store a new PIN (validated) and use it from now on."""
        record = self.store.set_pin(pin)
        self._gate = PinGate(record.pin_hash, self.clock, self.policy)
        self.pin_error = ""
        log.info("kiosk: clinician PIN set")

    # -- clinician access -----------------------------------------------------------------------
    def require_clinician(self, action: Callable[[], None], title: str = "Clinician PIN") -> None:
        """Run ``action`` now if the clinician is unlocked, else after the right PIN."""
        if self.clinician_unlocked:
            action()
            return
        if isinstance(self.app.scene, PinPadScene):
            return  # one keypad at a time: a second escape attempt adds nothing
        if self.pin_error:
            from wobble_trainer.app.scenes.clinician import MessageScene

            self.app.push(MessageScene(self.app, "PIN unavailable", self.pin_error))
            return
        if not self.has_pin:
            self.app.push(
                PinPadScene(
                    self.app,
                    self,
                    mode="set",
                    title=FIRST_PIN_TITLE,
                    on_success=lambda: self._unlocked(action),
                    hint=FIRST_PIN_HINT,
                )
            )
            return
        self.app.push(
            PinPadScene(
                self.app,
                self,
                mode="unlock",
                title=title,
                on_success=lambda: self._unlocked(action),
            )
        )

    def gate(self, action: Callable[[], None]) -> None:
        """``action`` for the clinician only (a ``ClinicianGate`` for other scenes)."""
        self.require_clinician(action, "Clinician PIN")

    def _unlocked(self, action: Callable[[], None]) -> None:
        self.clinician_unlocked = True
        self.idle_s = 0.0
        action()

    def lock(self) -> None:
        """The clinician is done: the next clinician screen asks for the PIN again."""
        if self.clinician_unlocked:
            log.info("kiosk: clinician locked")
        self.clinician_unlocked = False

    def admit(self, scene: Scene) -> bool:
        """May ``scene`` be shown now? A clinician-only scene waits for the PIN (and is shown
        after it); everything else may. Called by :meth:`AppContext.push`."""
        if not getattr(scene, "clinician_only", False) or self.clinician_unlocked:
            return True
        log.info("kiosk: %s needs the clinician PIN", type(scene).__name__)
        title = getattr(scene, "title", "") or "Clinician PIN"
        self.require_clinician(lambda: self.app.push(scene), f"PIN: {title}")
        return False

    def _lock_when_done(self) -> None:
        """The clinician's screens are all closed (back at the patient's): lock, so the patient
        screens that follow show only the patient's own data."""
        if not self.clinician_unlocked or isinstance(self.app.scene, PinPadScene):
            return
        if not any(getattr(scene, "clinician_only", False) for scene in self.app.stack):
            self.lock()

    def can_see_profile(self, profile: Any) -> bool:
        """May the current user see ``profile``'s data (a Profile, an id, or None = guest)?"""
        if self.clinician_unlocked:
            return True
        own = self.app.profile
        return own is not None and _profile_id(own) == _profile_id(profile)

    def open_clinician_menu(self) -> None:
        from wobble_trainer.app.scenes.clinician import ClinicianMenuScene

        if isinstance(self.app.scene, ClinicianMenuScene | PinPadScene):
            return
        self.require_clinician(
            lambda: self.app.push(ClinicianMenuScene(self.app, self)), "Clinician menu"
        )

    # -- leaving --------------------------------------------------------------------------------
    def escape_attempt(self, source: str) -> None:
        """Somebody tried to leave: log it and ask for the PIN (the right one quits)."""
        self.escape_attempts.append(source)
        log.warning("kiosk: escape attempt (%s): asking for the clinician PIN", source)
        self.require_clinician(lambda: self.allow_exit("clinician"), "PIN to leave the trainer")

    def allow_exit(self, reason: str) -> None:
        """Let the loop end (the right PIN, or systemd stopping the service)."""
        self.exit_allowed = True
        self.stop_reason = self.stop_reason or reason
        self.app.quit_requested = True

    def signal_handlers(self) -> dict[int, Callable[[int, Any], None]]:
        """SIGINT, SIGQUIT and SIGTSTP from the console become escape attempts (handled at the
        next frame: a signal handler must not change scenes mid-draw). SIGTERM is the shell's."""
        handlers: dict[int, Callable[[int, Any], None]] = {signal.SIGINT: self._on_signal}
        for name in ("SIGQUIT", "SIGTSTP"):
            if hasattr(signal, name):
                handlers[getattr(signal, name)] = self._on_signal
        return handlers

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._pending.append(signal.Signals(signum).name)

    def guard(self) -> None:
        """Every frame, before the loop decides whether to go on: act on pending signals, refuse
        a quit the PIN did not allow, and never let the scene stack run empty."""
        while self._pending:
            self.escape_attempt(self._pending.pop(0))
        if self.app.quit_requested and not self.exit_allowed:
            self.app.quit_requested = False
            self.escape_attempt("quit request")
        if self.app.scene is None and not self.exit_allowed:
            self._push_home()
        self._lock_when_done()

    def _push_home(self) -> None:
        if self.home_factory is not None:
            self.app.push(self.home_factory(self.app))
        else:
            from wobble_trainer.app.scenes.menus import StartScene

            self.app.push(StartScene(self.app))

    # -- events and time ------------------------------------------------------------------------
    def filter_event(self, event: Any) -> bool:
        """See ``event`` before the app does; True when the kiosk consumed it."""
        if event.type == pygame.QUIT:
            self.escape_attempt("window close")
            return True
        if event.type == pygame.KEYDOWN:
            self.note_activity()
            mods = getattr(event, "mod", 0)
            ctrl = bool(mods & pygame.KMOD_CTRL)
            if ctrl and event.key in (pygame.K_q, pygame.K_c, pygame.K_w):
                self.escape_attempt(f"Ctrl-{pygame.key.name(event.key).upper()}")
                return True
            if event.key == pygame.K_F4 and mods & pygame.KMOD_ALT:
                self.escape_attempt("Alt-F4")
                return True
            if event.key == pygame.K_F12:
                self.open_clinician_menu()
                return True
            scene = self.app.scene
            handler = getattr(scene, "handle_key", None)
            return bool(handler is not None and handler(event))
        if event.type in (pygame.MOUSEBUTTONDOWN, pygame.FINGERDOWN, pygame.MOUSEMOTION):
            if event.type != pygame.MOUSEMOTION:
                self.note_activity()
            if (
                event.type == pygame.MOUSEBUTTONDOWN
                and event.button == 1
                and self._corner.collidepoint(event.pos)
                and self._corner_shown()
            ):
                self.open_clinician_menu()
                return True
        return False

    def note_activity(self) -> None:
        """A touch, key or button press: the patient is still there."""
        self.idle_s = 0.0

    def update(self, dt: float, tick: Tick) -> None:
        """One logic step: the inactivity timer (someone on the board counts as activity)."""
        if isinstance(self.app.scene, AttractScene):
            self.idle_s = 0.0
            return
        if tick.angles is not None and tick.on_board:
            self.idle_s = 0.0
            return
        self.idle_s += dt
        limit = (
            self.settings.clinician_timeout_s
            if self.clinician_unlocked
            else self.settings.inactivity_s
        )
        if self.idle_s >= limit:
            self.logout("inactivity")

    def start(self) -> None:
        """Kiosk start-up: the attract screen over profile selection (or home); first run: the
        PIN must be set before anyone trains."""
        self.logout("start")

    def logout(self, reason: str) -> None:
        """Back to profile selection (or home) behind the attract screen; clinician locked."""
        log.info("kiosk: log out (%s)", reason)
        self.lock()
        self.app.profile = None
        self.app.home()
        if self.app.scene is None:
            self._push_home()
        select = optional_scene(*PROFILE_SELECT)
        if select is not None:
            # Its clinician buttons (new, edit, guest sessions) then need the PIN.
            self.app.push(build_scene(select, self.app, clinician_gate=self.gate))
        self.app.push(AttractScene(self.app, self))
        self.idle_s = 0.0
        if not self.has_pin and not self.pin_error:
            self.app.push(
                PinPadScene(
                    self.app,
                    self,
                    mode="set",
                    title=FIRST_PIN_TITLE,
                    on_success=lambda: None,
                    cancellable=False,
                    hint=FIRST_PIN_HINT,
                )
            )

    # -- drawing --------------------------------------------------------------------------------
    def _corner_shown(self) -> bool:
        from wobble_trainer.app.scenes.clinician import ClinicianScene

        return not isinstance(self.app.scene, PinPadScene | ClinicianScene)

    def render_overlay(self, surface: pygame.Surface, layout: Layout) -> None:
        """A small padlock in the top-right corner: the clinician's way in (or F12)."""
        size = max(28, layout.small_size * 3 // 2)
        self._corner = pygame.Rect(layout.width - size - 4, 4, size, size)
        if not self._corner_shown():
            return
        r = self._corner
        body = pygame.Rect(0, 0, r.width * 3 // 5, r.height * 2 // 5)
        body.midbottom = (r.centerx, r.bottom - r.height // 8)
        shackle = pygame.Rect(0, 0, body.width * 2 // 3, r.height // 2)
        shackle.midbottom = (body.centerx, body.top + shackle.height // 3)
        width = max(2, r.width // 12)
        pygame.draw.arc(surface, MUTED, shackle, 0, math.pi, width)
        pygame.draw.rect(surface, MUTED, body, border_radius=max(2, r.width // 10))


def _profile_id(profile: Any) -> Any:
    if profile is None or isinstance(profile, int | str):
        return profile
    return getattr(profile, "id", profile)


def kiosk_of(app: AppContext) -> Kiosk | None:
    """The running kiosk, or None outside kiosk mode."""
    kiosk = getattr(app, "kiosk", None)
    return kiosk if isinstance(kiosk, Kiosk) else None


def require_clinician(app: AppContext, action: Callable[[], None], title: str = "") -> None:
    """Run ``action`` if the clinician may act: at once outside kiosk mode or when unlocked,
    else after the clinician PIN. For screens with other patients' data and clinician tools."""
    kiosk = kiosk_of(app)
    if kiosk is None:
        action()
    else:
        kiosk.require_clinician(action, title or "Clinician PIN")


def can_see_profile(app: AppContext, profile: Any) -> bool:
    """May the person at the screen see ``profile``'s data? Always outside kiosk mode; in kiosk
    mode only the logged-in patient's own, or anything once the clinician is unlocked."""
    kiosk = kiosk_of(app)
    return True if kiosk is None else kiosk.can_see_profile(profile)


def optional_scene(module: str, name: str) -> Callable[..., Scene] | None:
    """A scene class another part of the app provides, or None while it does not exist."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None
    except AttributeError:
        return None


def build_scene(cls: Callable[..., Scene], app: AppContext, **options: Any) -> Scene:
    """``cls(app, **options)`` with only the options its constructor accepts (scenes written
    elsewhere may not take them all yet)."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return cls(app)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return cls(app, **options)
    return cls(app, **{k: v for k, v in options.items() if k in parameters})


# -- drawing helpers shared with the clinician screens -------------------------------------------
def draw_button(
    surface: pygame.Surface,
    layout: Layout,
    rect: pygame.Rect,
    text: str,
    *,
    highlighted: bool = False,
    enabled: bool = True,
    color: tuple[int, int, int] | None = None,
) -> None:
    """A touch button: a rounded panel, framed when highlighted, greyed when disabled."""
    m = layout.margin
    fill = HIGHLIGHT if highlighted else PANEL
    if not enabled:
        fill = (28, 32, 44)
    pygame.draw.rect(surface, fill, rect, border_radius=m // 2 + 2)
    if highlighted:
        pygame.draw.rect(surface, ACCENT, rect, max(2, m // 3), border_radius=m // 2 + 2)
    size = min(layout.body_size, max(12, rect.height * 3 // 5))
    font = layout.font(size)
    while size > 12 and font.size(text)[0] > rect.width - m:
        size -= 2
        font = layout.font(size)
    layout.text(surface, text, size, rect.center, color or (TEXT if enabled else MUTED))


def grid_rects(area: pygame.Rect, count: int, columns: int, gap: int) -> list[pygame.Rect]:
    """``count`` equal cells filling ``area`` row by row."""
    rows = max(1, math.ceil(count / columns))
    w = (area.width - gap * (columns - 1)) // columns
    h = (area.height - gap * (rows - 1)) // rows
    return [
        pygame.Rect(
            area.left + (i % columns) * (w + gap), area.top + (i // columns) * (h + gap), w, h
        )
        for i in range(count)
    ]


# -- the PIN pad ----------------------------------------------------------------------------------
KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "DEL", "0", "OK"]
"""A numeric keypad's keys, row by row (the PIN pad, the patient code pad)."""
DIGIT_KEYS = {getattr(pygame, f"K_{d}"): d for d in "0123456789"} | {
    getattr(pygame, f"K_KP{d}", None) or getattr(pygame, f"K_KP_{d}"): d for d in "0123456789"
}
"""Keyboard keys (top row and keypad) → the digit they type."""


def keypad_key(event: Any) -> str | None:
    """The :data:`KEYPAD` key a keyboard event presses (a digit, or "DEL" for Backspace)."""
    if event.key in DIGIT_KEYS:
        return DIGIT_KEYS[event.key]
    return "DEL" if event.key == pygame.K_BACKSPACE else None


class PinPadScene(Scene):
    """A numeric keypad for the clinician PIN (touch; digits, Backspace, Enter, Esc on a keyboard).

    ``mode="unlock"``: checked through the kiosk's lockout gate; ``mode="set"``: a new PIN typed
    twice. ``on_success`` runs after the pad has closed itself.
    """

    title = "Clinician PIN"
    person_badge = False
    """No "who is training" badge over the keypad."""

    def __init__(
        self,
        app: AppContext,
        kiosk: Kiosk,
        *,
        mode: str = "unlock",
        title: str = "Clinician PIN",
        on_success: Callable[[], None],
        cancellable: bool = True,
        hint: str = "",
    ) -> None:
        super().__init__(app)
        if mode not in ("unlock", "set"):
            raise ValueError("mode must be 'unlock' or 'set'")
        self.kiosk = kiosk
        self.mode = mode
        self.title = title
        self.on_success = on_success
        self.cancellable = cancellable
        self.hint = hint
        """A line of explanation under the message."""
        self.entered = ""
        self.first_entry = ""
        """In set mode: the new PIN typed once, waiting for the confirmation."""
        self.message = self._prompt()
        self.message_color = TEXT
        self.done = False

    def _prompt(self) -> str:
        if self.mode == "unlock":
            return "Enter the clinician PIN"
        if not self.first_entry:
            return f"Choose a PIN of {MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits"
        return "Type the new PIN again"

    @property
    def locked(self) -> bool:
        return self.mode == "unlock" and self.kiosk.retry_after() > 0

    # -- input ----------------------------------------------------------------------------------
    def press(self, key: str) -> None:
        """A keypad key: a digit, "DEL" or "OK"."""
        if self.done:
            return
        if key == "DEL":
            self.entered = self.entered[:-1]
        elif key == "OK":
            self.submit()
        elif (
            key.isdigit()
            and len(key) == 1
            and not self.locked
            and len(self.entered) < MAX_PIN_LENGTH
        ):
            self.entered += key

    def handle_key(self, event: Any) -> bool:
        key = keypad_key(event)
        if key is not None:
            self.press(key)
        return key is not None

    def command(self, command: Command) -> None:
        if command in (Command.SELECT,):
            self.submit()
        elif command in (Command.BACK, Command.MENU):
            self.cancel()

    def cancel(self) -> None:
        if self.cancellable and not self.done:
            self.done = True
            self.app.pop()

    def _say(self, text: str, color: tuple[int, int, int] = TEXT) -> None:
        self.message, self.message_color = text, color

    def submit(self) -> None:
        if self.done:
            return
        pin, self.entered = self.entered, ""
        if self.mode == "unlock":
            self._unlock(pin)
        else:
            self._set(pin)

    def _unlock(self, pin: str) -> None:
        wait = self.kiosk.retry_after()
        if wait > 0:
            self._say(f"Too many wrong PINs. Try again in {math.ceil(wait)} s.", RED)
            return
        if len(pin) < MIN_PIN_LENGTH:
            self._say(f"A PIN has {MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits.", RED)
            return
        result = self.kiosk.try_pin(pin)
        if result.accepted:
            self._finish()
        elif result.retry_after_s > 0:
            self._say(f"Wrong PIN. Locked for {math.ceil(result.retry_after_s)} s.", RED)
        else:
            left = self.kiosk.policy.free_attempts - result.failures
            self._say(f"Wrong PIN. {left} more tr{'y' if left == 1 else 'ies'} before a wait.", RED)

    def _set(self, pin: str) -> None:
        try:
            validate_pin(pin)
        except PinFormatError as exc:
            self._say(str(exc).capitalize() + ".", RED)
            return
        if not self.first_entry:
            self.first_entry = pin
            self._say(self._prompt())
            return
        if pin != self.first_entry:
            self.first_entry = ""
            self._say("The two PINs differ. Choose a PIN again.", RED)
            return
        try:
            self.kiosk.set_pin(pin)
        except OSError as exc:
            self.first_entry = ""
            self._say(f"Could not save the PIN: {exc}", RED)
            return
        self._finish()

    def _finish(self) -> None:
        self.done = True
        if self.app.scene is self:
            self.app.pop()
        else:  # something was pushed above the pad meanwhile: take the pad out of the stack
            with contextlib.suppress(ValueError):
                self.app.stack.remove(self)
        self.on_success()

    # -- drawing --------------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        m = layout.margin
        wide = layout.width > layout.height * 1.2
        if wide:
            info = pygame.Rect(m, m, layout.width // 2 - 2 * m, layout.height - 2 * m)
            pad = pygame.Rect(layout.width // 2 + m, m, layout.width // 2 - 2 * m,
                              layout.height - 2 * m)  # fmt: skip
        else:
            info = pygame.Rect(m, m, layout.width - 2 * m, layout.height * 2 // 5)
            pad = pygame.Rect(m * 2, info.bottom + m, layout.width - 4 * m,
                              layout.height - info.bottom - 2 * m)  # fmt: skip
        title_area = pygame.Rect(info.left, info.top, info.width, info.height // 3)
        y = info.top + layout.wrapped(surface, self.title, layout.body_size, title_area, ACCENT)
        # The digits typed, as dots (never the digits: someone may be watching).
        dot_r = max(6, layout.small_size // 3)
        slots = max(MIN_PIN_LENGTH, len(self.entered))
        spacing = dot_r * 3
        x0 = info.centerx - (slots - 1) * spacing // 2
        cy = y + layout.margin + dot_r * 2
        for i in range(slots):
            filled = i < len(self.entered)
            pygame.draw.circle(
                surface,
                ACCENT if filled else MUTED,
                (x0 + i * spacing, cy),
                dot_r,
                0 if filled else 2,
            )
        message = self.message
        color = self.message_color
        wait = self.kiosk.retry_after() if self.mode == "unlock" else 0.0
        if wait > 0:
            message, color = f"Too many wrong PINs. Try again in {math.ceil(wait)} s.", RED
        area = pygame.Rect(info.left, cy + dot_r * 2 + m, info.width, info.bottom - cy)
        used = layout.wrapped(surface, message, layout.small_size, area, color)
        if self.hint:
            hint_area = pygame.Rect(area.left, area.top + used + m, area.width, area.height)
            used += m + layout.wrapped(surface, self.hint, layout.small_size, hint_area, MUTED)
        if self.cancellable:
            cancel = pygame.Rect(0, 0, min(info.width, layout.body_size * 5), layout.body_size * 2)
            cancel.midtop = (info.centerx, min(area.top + used + m, info.bottom - cancel.height))
            draw_button(surface, layout, cancel, "Cancel")
            self.buttons.append((cancel, self.cancel))
        rects = grid_rects(pad, len(KEYPAD), 3, max(4, m // 2))
        for rect, key in zip(rects, KEYPAD, strict=True):
            label = "Delete" if key == "DEL" else key
            enabled = wait <= 0 or key == "DEL"
            draw_button(
                surface,
                layout,
                rect,
                label,
                enabled=enabled,
                color=GREEN if key == "OK" and enabled else None,
            )
            self.buttons.append((rect, lambda k=key: self.press(k)))


# -- the attract screen ---------------------------------------------------------------------------
class AttractScene(Scene):
    """Shown while nobody trains: an animated board and "Step on the board to start". Someone on
    the board for :attr:`KioskSettings.step_on_s`, a tap, a key or the button moves on."""

    title = "Wobble Trainer"
    person_badge = False
    """Nobody is training yet."""

    def __init__(self, app: AppContext, kiosk: Kiosk | None = None) -> None:
        super().__init__(app)
        self.kiosk = kiosk
        self.t = 0.0
        self.on_for = 0.0
        self.left = False

    @property
    def step_on_s(self) -> float:
        return self.kiosk.settings.step_on_s if self.kiosk is not None else KioskSettings.step_on_s

    def update(self, dt: float, tick: Tick) -> None:
        self.t += dt
        if tick.angles is not None and tick.on_board:
            self.on_for += dt
        else:
            self.on_for = 0.0
        if self.on_for >= self.step_on_s:
            self.leave()

    def leave(self) -> None:
        if not self.left and self.app.scene is self:
            self.left = True
            self.app.pop()

    def command(self, command: Command) -> None:
        self.leave()

    def click(self, pos: tuple[int, int]) -> bool:
        self.leave()
        return True

    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        y = layout.title(surface, "Wobble Trainer")
        bottom_text = layout.title_size + layout.small_size * 3
        radius = max(
            30, min(layout.width // 2 - layout.margin, (layout.height - y - bottom_text) // 2)
        )
        center = (layout.width // 2, y + radius)
        # A slow, wandering sway: the cursor circles and breathes like a person balancing.
        sway = 9.0 * DEG
        pitch = sway * math.sin(self.t * 0.9) * (0.6 + 0.4 * math.sin(self.t * 0.23))
        roll = sway * math.cos(self.t * 1.3) * (0.6 + 0.4 * math.cos(self.t * 0.31))
        angles = angles_from_up(up_from_pitch_roll(pitch, roll))
        draw_tilt_view(
            surface, center, radius, angles, 15.0 * DEG, target=(0.0, 0.0), target_radius=3.0 * DEG
        )
        pulse = 0.5 + 0.5 * math.sin(self.t * 2 * math.pi / 2.0)
        color = tuple(int(a + (b - a) * pulse) for a, b in zip(TEXT, ACCENT, strict=True))
        text_y = center[1] + radius + layout.title_size // 2 + layout.margin
        layout.text(surface, "Step on the board to start", layout.title_size * 3 // 4,
                    (layout.width // 2, text_y), color)  # fmt: skip
        layout.text(surface, "or tap the screen", layout.small_size,
                    (layout.width // 2, text_y + layout.title_size * 3 // 4), MUTED)  # fmt: skip
        if self.on_for > 0:
            fraction = min(1.0, self.on_for / self.step_on_s)
            bar = pygame.Rect(0, 0, int((layout.width - 4 * layout.margin) * fraction), 6)
            bar.midbottom = (layout.width // 2, layout.height - layout.margin)
            pygame.draw.rect(surface, GREEN, bar, border_radius=3)


# -- systemd --------------------------------------------------------------------------------------
HEALTHY_SAMPLE_AGE_S = 1.0
"""Samples older than this mean the sensor is not up (READY waits; the status says so)."""

SAMPLER_STALL_S = 2.0
"""A sampler loop that has not turned for this long is hung: the watchdog is no longer petted."""


class ServiceLink:
    """The app loop's side of systemd's ``Type=notify`` protocol.

    Call :meth:`frame` after every drawn frame: the first frame drawn while the sensor is healthy
    sends ``READY=1`` with a status line; after that the watchdog is petted (at half
    ``WatchdogSec``) only while ``health()`` is true, and ``STATUS=`` is sent when the status
    text changes (never a patient's name: it ends up in the journal). :meth:`stopping` sends
    ``STOPPING=1``. Outside systemd the notifier is a no-op.
    """

    def __init__(
        self,
        notifier: Notifier,
        *,
        health: Callable[[], bool],
        sensor: Callable[[], bool] | None = None,
        describe: Callable[[], str] = lambda: "sensor up",
        clock: Clock | None = None,
        watchdog_interval_s: float | None = None,
    ) -> None:
        self.notifier = notifier
        self.health = health
        self.sensor = sensor or health
        """READY waits for it; the status line reports it."""
        self.describe = describe
        self.watchdog = Watchdog(notifier, clock or MonotonicClock(), watchdog_interval_s)
        self.ready_sent = False
        self.last_status = ""
        self.stopped = False

    def frame(self, shell: Any) -> None:
        healthy = bool(self.health())
        sensor = bool(self.sensor())
        if not self.ready_sent:
            if not (healthy and sensor) or shell.frames < 1:
                return
            self.last_status = self._status(shell, sensor)
            self.notifier.ready(self.last_status)
            self.ready_sent = True
        self.watchdog.tick(healthy)
        status = self._status(shell, sensor)
        if status != self.last_status:
            self.last_status = status
            self.notifier.status(status)

    def _status(self, shell: Any, sensor: bool) -> str:
        if not sensor:
            return "Sensor lost: check the cable to the board"
        kiosk = getattr(shell, "kiosk", None)
        mode = ""
        if kiosk is not None:
            mode = " (kiosk, clinician unlocked)" if kiosk.clinician_unlocked else " (kiosk)"
        scene = shell.app.scene
        where = type(scene).__name__.removesuffix("Scene") if scene is not None else "none"
        return f"Running{mode}: {self.describe()}; screen {where}"

    def stopping(self, reason: str = "") -> None:
        if self.stopped:
            return
        self.stopped = True
        self.notifier.stopping(f"Stopping ({reason})" if reason else "Stopping")


def sensor_up(runner: Any, feed: Any) -> Callable[[], bool]:
    """The sensor is up: the sampler runs, the chip is connected, samples keep arriving."""

    def up() -> bool:
        if not runner.is_alive():
            return False
        if runner.stats().get("connected", 0.0) != 1.0:
            return False
        if getattr(feed, "last_sample_t", 0.0) is None:
            return False  # not one sample yet
        age = feed.sample_age() if hasattr(feed, "sample_age") else 0.0
        return age <= HEALTHY_SAMPLE_AGE_S

    return up


def sampler_health(
    runner: Any,
    clock: Clock | None = None,
    stall_s: float = SAMPLER_STALL_S,
    sample_age: Callable[[], float] | None = None,
) -> Callable[[], bool]:
    """The sampler is healthy: its process lives, its read loop keeps turning and, with
    ``sample_age`` (seconds since samples last reached the app), samples arrive.

    The watchdog is petted only while samples arrive: a trainer that gets no samples for
    ``stall_s`` is restarted by systemd and comes back on its "sensor not found" screen, which
    shows the wiring checks and keeps looking (the sampler itself is restarted within 2 s by
    :class:`~wobble_trainer.sampling.supervisor.SamplerSupervisor` when it dies or freezes).
    """
    clock = clock or MonotonicClock()
    last = {"polls": -1.0, "at": clock.now()}

    def healthy() -> bool:
        if not runner.is_alive():
            return False
        polls = float(runner.stats().get("polls", 0.0))
        now = clock.now()
        if polls != last["polls"]:
            last["polls"], last["at"] = polls, now
        if sample_age is not None and sample_age() > stall_s:
            return False
        return now - last["at"] <= stall_s

    return healthy


def describe_sensor(info: Mapping[str, Any]) -> str:
    """``MPU-6050 at 0x68 on bus 1, 1000 Hz`` from the runner's info."""
    chip = info.get("chip") or "sensor"
    address = info.get("address")
    where = f" at 0x{address:02X}" if isinstance(address, int) else ""
    bus = info.get("bus")
    on_bus = f" on bus {bus}" if bus is not None else ""
    odr = (info.get("config") or {}).get("odr_hz")
    rate = f", {odr:.0f} Hz" if isinstance(odr, int | float) else ""
    return f"{chip}{where}{on_bus}{rate}"
