"""The app's main loop: angles in, fixed-step scene logic, drawing, input, and the simulated
person's lean.

Each frame: the angle feed runs the estimator over every new sample; the scene's logic runs in
fixed :data:`~wobble_trainer.app.scene.LOGIC_DT` steps for the time that passed; the scene draws
once. Rendering never waits for the sampler, which runs in its own process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wobble_trainer.app.controls import Command
from wobble_trainer.app.layout import Layout
from wobble_trainer.app.person_badge import draw_person_badge
from wobble_trainer.app.presence import PresenceDetector
from wobble_trainer.app.scene import LOGIC_DT, AppContext, Tick
from wobble_trainer.app.widgets import (
    banner_height,
    draw_banner,
    draw_notice,
    draw_pause_veil,
)
from wobble_trainer.sampling.samples import SAMPLE_DTYPE
from wobble_trainer.sampling.supervisor import SamplerSupervisor
from wobble_trainer.tilt import bias_store
from wobble_trainer.tilt.board_angles import BoardAngles
from wobble_trainer.tilt.calibration import Calibration
from wobble_trainer.tilt.stream import ANGLE_DTYPE, TiltStream
from wobble_trainer.units import DEG

SENSOR_TIMEOUT_S = 0.3
"""No new sample for this long means the sensor is lost (shown, activities pause)."""

BIAS_SAVE_INTERVAL_S = 60.0
"""The learnt gyro bias is saved at most this often (and at exit)."""

NOTICE_S = 12.0
"""How long a :meth:`AppContext.warn` banner stays up (logic time: it waits out a pause)."""

MAX_STEPS_PER_FRAME = 10
"""After a stall, logic catches up at most this many steps (the rest of the time is dropped)."""


def _keymap() -> dict[int, Command]:
    import pygame

    return {
        pygame.K_LEFT: Command.LEFT,
        pygame.K_RIGHT: Command.RIGHT,
        pygame.K_UP: Command.UP,
        pygame.K_DOWN: Command.DOWN,
        pygame.K_RETURN: Command.SELECT,
        pygame.K_KP_ENTER: Command.SELECT,
        pygame.K_ESCAPE: Command.BACK,
        pygame.K_BACKSPACE: Command.BACK,
        pygame.K_SPACE: Command.PAUSE,
        pygame.K_m: Command.MENU,
        pygame.K_TAB: Command.MENU,
    }


class LiveAngles:
    """Board angles from a running :class:`~wobble_trainer.sampling.runner.SamplerRunner`,
    whose process is restarted when it dies or freezes (checked every poll)."""

    def __init__(
        self, runner: Any, calibration: Calibration, bias_dir: Path | None = None
    ) -> None:
        self.runner = runner
        self.bias_dir = bias_dir
        """Where the learnt gyro bias is kept between runs (None: not kept)."""
        self._bias_saved: Any = None
        self._bias_saved_at = time.monotonic()
        self.supervisor = SamplerSupervisor(runner) if runner.mode == "process" else None
        self.rate_hz = float(runner.info.get("config", {}).get("odr_hz") or 1000.0)
        self.simulated = runner.spec.kind == "sim"
        self.stream: TiltStream | None = None
        self.set_calibration(calibration)
        self._last_sample_at = time.monotonic()
        self.last_sample_t: float | None = None
        self.new_angles = np.empty(0, dtype=ANGLE_DTYPE)
        """This frame's full-rate angles (for session logs)."""
        self.new_samples = np.empty(0, dtype=SAMPLE_DTYPE)
        """The raw samples of :attr:`new_angles`, one per angle."""

    def set_calibration(self, calibration: Calibration) -> None:
        """Use ``calibration`` from now on (a new one keeps the running estimator, see
        :meth:`TiltStream.use_calibration`)."""
        if getattr(self, "stream", None) is not None:
            self.stream.use_calibration(calibration)
            return
        self.stream = TiltStream(self.runner.ring.reader(), self.rate_hz, calibration)
        if self.bias_dir is not None:
            loaded = bias_store.load(calibration.device, self.bias_dir)
            if loaded.message:
                print(loaded.message, file=sys.stderr)
            # A bias learnt after this calibration (a newer one wins inside seed_for).
            self.stream.seed_trusted_bias(loaded.trusted)

    def keep_trusted_bias(self, force: bool = False) -> None:
        """Save the latest trusted gyro bias for the next start, at most once a minute on a
        background thread (an SD card's fsync must not hold up a frame), and at exit with
        ``force``, at once. A full or read-only disk only loses this convenience."""
        trusted = self.stream.trusted_bias
        now = time.monotonic()
        if self.bias_dir is None or trusted is None or trusted is self._bias_saved:
            return
        if not force and now - self._bias_saved_at < BIAS_SAVE_INTERVAL_S:
            return
        self._bias_saved_at = now
        self._bias_saved = trusted
        if force:
            self._save_bias(trusted)
        else:
            threading.Thread(
                target=self._save_bias, args=(trusted,), name="keep-gyro-bias", daemon=True
            ).start()

    def _save_bias(self, trusted: Any) -> None:
        try:
            bias_store.save(trusted, self.bias_dir)
        except (OSError, ValueError) as exc:
            print(f"The learnt gyro bias could not be kept ({exc}).", file=sys.stderr)

    def sample_reader(self) -> Any:
        return self.runner.ring.reader()

    def tilt_state(self) -> dict[str, Any]:
        """The live estimator's state now (what a trial starting next frame is replayed from)."""
        return self.stream.stream_state()

    def poll(self) -> BoardAngles | None:
        if self.supervisor is not None:
            self.supervisor.check()
        new = self.stream.update()
        self.new_angles = new
        self.new_samples = self.stream.last_samples
        self.keep_trusted_bias()
        now = time.monotonic()
        if len(new):
            self._last_sample_at = now
            self.last_sample_t = float(new["t"][-1])
        if now - self._last_sample_at > SENSOR_TIMEOUT_S:
            return None
        return self.stream.latest

    def sample_age(self) -> float:
        """Seconds since the last poll that brought new samples (the sampler's health)."""
        return time.monotonic() - self._last_sample_at

    def latest_pitch_roll(self) -> tuple[float, float] | None:
        """For the feedback thread: the newest pitch and roll, or None while the sensor is lost."""
        latest = self.stream.latest
        if latest is None or time.monotonic() - self._last_sample_at > SENSOR_TIMEOUT_S:
            return None
        return latest.pitch, latest.roll

    def lean(self, pitch: float, roll: float) -> None:
        if self.simulated:
            self.runner.set_lean_target(pitch, roll)


class NoSensor:
    """The feed while no IMU is connected (the "Sensor not found" screen): never any angles."""

    simulated = False
    rate_hz = None

    def __init__(self) -> None:
        self.new_angles = np.empty(0, dtype=ANGLE_DTYPE)
        self.new_samples = np.empty(0, dtype=SAMPLE_DTYPE)

    def poll(self) -> None:
        return None

    def latest_pitch_roll(self) -> None:
        return None

    def lean(self, pitch: float, roll: float) -> None:
        """Nothing to steer."""


@dataclass
class ManualLean:
    """The simulated person steered by hand: keys W/A/S/D, the right mouse button, or a touch
    (left button) held anywhere that is not a button: the board leans towards it from the
    centre of the screen."""

    pitch: float = 0.0
    roll: float = 0.0
    active: bool = False


class TrainerApp:
    """Owns the window and runs the loop until quit (or ``seconds`` of wall time)."""

    def __init__(
        self,
        feed: Any,
        context: AppContext,
        *,
        size: tuple[int, int] = (800, 480),
        fullscreen: bool = False,
        on_frame: Callable[[TrainerApp], None] | None = None,
        button_events: Any = None,
        kiosk: Any = None,
        service: Any = None,
        banner: tuple[str, str] | None = None,
    ) -> None:
        import pygame

        pygame.init()
        flags = pygame.FULLSCREEN if fullscreen else pygame.RESIZABLE
        self.screen = pygame.display.set_mode(size if not fullscreen else (0, 0), flags)
        pygame.display.set_caption("Wobble Trainer")
        self.kiosk = kiosk
        """:class:`~wobble_trainer.app.kiosk.Kiosk` in kiosk mode: sees events first, guards
        quitting, times out inactivity."""
        self.service = service
        """:class:`~wobble_trainer.app.kiosk.ServiceLink`: systemd READY/WATCHDOG/STATUS."""
        self.stop_reason = ""
        if kiosk is not None:
            pygame.mouse.set_visible(False)  # a touchscreen kiosk shows no pointer
        self.banner = banner
        """(title, detail) of a strip kept below every screen (the simulated board's)."""
        self.layout = self._layout()
        self.feed = feed
        self.app = context
        self.presence = PresenceDetector(context.edge_angles)
        self.keys = _keymap()
        self.manual = ManualLean()
        self._dragging = False
        self.on_frame = on_frame
        self.button_events = button_events
        """Queue of the hardware button's presses (``ButtonEvent``), when a button is fitted."""
        self.logic_time = 0.0
        self.frames = 0
        self._accumulator = 0.0
        self.angles: BoardAngles | None = None
        self._notice_serial = 0
        self.notice_left = 0.0
        """Seconds the current notice banner stays up."""

    def _layout(self) -> Layout:
        """The scenes' layout: the window, less the banner strip at the bottom."""
        width, height = self.screen.get_size()
        if self.banner is None:
            return Layout(width, height)
        self.banner_layout = Layout(width, height)
        strip = banner_height(self.banner_layout, *self.banner)
        return Layout(width, height - strip)

    def handle_events(self) -> None:
        import pygame

        scene = self.app.scene
        for event in pygame.event.get():
            if self.kiosk is not None:
                if self.kiosk.filter_event(event):
                    continue
                scene = self.app.scene  # the kiosk may have opened a screen
            if event.type == pygame.QUIT:
                self.app.quit_requested = True
            elif event.type == pygame.VIDEORESIZE:
                self.screen = pygame.display.set_mode(event.size, pygame.RESIZABLE)
                self.layout = self._layout()
            elif event.type == pygame.KEYDOWN:
                handler = getattr(scene, "handle_key", None)
                if self.kiosk is None and handler is not None and handler(event):
                    continue  # typed into the screen (the kiosk has offered it already)
                if event.key == pygame.K_q and event.mod & pygame.KMOD_CTRL:
                    self.app.quit_requested = True
                elif event.key == pygame.K_p and self.feed.simulated:
                    self.app.autopilot = not self.app.autopilot
                elif event.key in self.keys and scene is not None:
                    scene.command(self.keys[event.key])
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and scene:
                # A touch that hits no button steers the simulated person while it lasts.
                self._dragging = not scene.click(event.pos) and self.feed.simulated
            elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
                self._dragging = False
        self._button(scene)
        if self.feed.simulated:
            self._manual_lean(pygame)

    def _button(self, scene: Any) -> None:
        """Short press: start / pause; long press: the menu."""
        if self.button_events is None or scene is None:
            return
        from wobble_trainer.feedback.button import ButtonEvent

        while not self.button_events.empty():
            event = self.button_events.get_nowait()
            if self.kiosk is not None:
                self.kiosk.note_activity()
            scene.command(Command.MENU if event is ButtonEvent.LONG_PRESS else Command.PAUSE)

    def _manual_lean(self, pygame: Any) -> None:
        pressed = pygame.key.get_pressed()
        full = 12.0 * DEG
        pitch = (pressed[pygame.K_w] - pressed[pygame.K_s]) * full
        roll = (pressed[pygame.K_d] - pressed[pygame.K_a]) * full
        if pygame.mouse.get_pressed()[2] or self._dragging:
            x, y = pygame.mouse.get_pos()
            half = self.layout.short / 2
            roll = max(-1.0, min(1.0, (x - self.layout.width / 2) / half)) * full * 1.5
            pitch = max(-1.0, min(1.0, (self.layout.height / 2 - y) / half)) * full * 1.5
        self.manual = ManualLean(pitch, roll, bool(pitch or roll))

    def step_logic(self, elapsed: float) -> None:
        """Run the fixed logic steps that ``elapsed`` seconds of wall time hold."""
        self._accumulator = min(self._accumulator + elapsed, MAX_STEPS_PER_FRAME * LOGIC_DT)
        while self._accumulator >= LOGIC_DT - 1e-12:
            self._accumulator -= LOGIC_DT
            self.logic_time += LOGIC_DT
            self.notice_left = max(0.0, self.notice_left - LOGIC_DT)
            on_board = self.presence.update(LOGIC_DT, self.angles)
            tick = Tick(self.logic_time, self.angles, on_board)
            scene = self.app.scene
            if scene is None:
                return
            scene.update(LOGIC_DT, tick)
            if self.kiosk is not None:
                self.kiosk.update(LOGIC_DT, tick)

    def steer_simulation(self) -> None:
        if not self.feed.simulated:
            return
        if self.manual.active:
            self.feed.lean(self.manual.pitch, self.manual.roll)
        elif self.app.autopilot and self.app.scene is not None:
            tick = Tick(self.logic_time, self.angles)
            self.feed.lean(*(self.app.scene.autopilot(tick) or (0.0, 0.0)))
        else:
            # Nobody steering: the simulated person stands the board level (never left
            # leaning on a rim where the autopilot or a key last put it).
            self.feed.lean(0.0, 0.0)

    def render(self) -> None:
        import pygame

        scene = self.app.scene
        layout = self.layout
        layout.begin_frame()
        canvas = self.screen
        if self.banner is not None:
            canvas = self.screen.subsurface(pygame.Rect(0, 0, layout.width, layout.height))
        if scene is not None:
            scene.render(canvas, layout)
            draw_person_badge(canvas, layout, self.app)
        if self.angles is None and (scene is None or scene.needs_sensor):
            draw_pause_veil(
                canvas,
                layout,
                "Sensor lost",
                "Check the cable to the board. Waiting for it...",
            )
        if self.app.notice_serial != self._notice_serial:
            self._notice_serial = self.app.notice_serial
            self.notice_left = NOTICE_S
        if self.notice_left > 0 and self.app.notice:
            draw_notice(self.screen, self.layout, self.app.notice)
        if self.kiosk is not None:
            self.kiosk.render_overlay(canvas, layout)
        if self.banner is not None:
            strip = pygame.Rect(0, layout.height, layout.width, self.screen.get_height())
            self.banner_layout.begin_frame()
            draw_banner(self.screen, self.banner_layout, strip, *self.banner)
        pygame.display.flip()

    def frame(self, elapsed: float) -> None:
        """One frame: new angles, input, ``elapsed`` seconds of fixed-step logic, drawing, and
        the systemd notifications (tests call it with scripted ``elapsed``)."""
        self.angles = self.feed.poll()
        self.app.publish_angles(self.feed.new_angles, self.feed.new_samples)
        self.handle_events()
        self.steer_simulation()
        self.step_logic(elapsed)
        self.render()
        self.frames += 1
        if self.service is not None:
            self.service.frame(self)
        if self.on_frame is not None:
            self.on_frame(self)

    def running(self) -> bool:
        """Go on with another frame? (In kiosk mode only the PIN or SIGTERM ends the loop.)"""
        if self.kiosk is not None:
            self.kiosk.guard()
        return not self.app.quit_requested and self.app.scene is not None

    def _terminate(self, signum: int, frame: Any) -> None:
        """SIGTERM (systemd stopping the service) or SIGHUP: stop cleanly after this frame."""
        self.stop_reason = signal.Signals(signum).name
        self.app.quit_requested = True
        if self.kiosk is not None:
            self.kiosk.allow_exit(self.stop_reason)

    @contextlib.contextmanager
    def signal_handlers(self) -> Iterator[None]:
        """While the loop runs: SIGTERM/SIGHUP stop it cleanly (STOPPING=1, pins released,
        database closed) instead of killing the process; in kiosk mode the console's SIGINT,
        SIGQUIT and SIGTSTP are escape attempts. Only the main thread may set handlers."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handlers: dict[int, Any] = {signal.SIGTERM: self._terminate, signal.SIGHUP: self._terminate}
        if self.kiosk is not None:
            handlers.update(self.kiosk.signal_handlers())
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def run(self, seconds: float | None = None, screenshot: str | None = None) -> int:
        import pygame

        clock = pygame.time.Clock()
        started = last = time.monotonic()
        try:
            with self.signal_handlers():
                while self.running():
                    now = time.monotonic()
                    if seconds is not None and now - started >= seconds:
                        self.stop_reason = self.stop_reason or "time up"
                        break
                    self.frame(now - last)
                    last = now
                    clock.tick(60)
            if screenshot:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                pygame.image.save(self.screen, screenshot)
        finally:
            if self.service is not None:
                self.service.stopping(self.stop_reason or "quit")
            self.app.feedback.close()
            pygame.quit()
        return 0


def use_headless_drivers() -> None:
    """Draw off-screen and play no sound (tests, demos on a server)."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
