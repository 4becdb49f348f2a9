"""Export to a USB stick from the app: find the stick, check it, write, sync, say it is safe.

The clinician (or the person) plugs a stick in and opens this screen. It finds the stick by
itself (:func:`wobble_trainer.reports.usb.find_drives`, looked for again every second while
there is none), checks that it can be written and has room for the export, asks once, then
writes the sessions (CSV folders and PDF reports, :class:`wobble_trainer.reports.export.ExportJob`)
a small step per logic tick with a progress bar, so the screen never freezes. Before it says
"safe to remove" it flushes everything to the stick (``os.sync``), also after a failure or a
stop. Leaning works as in every menu; touch, keys and the button too.

Whose sessions: the current profile's, or every profile's when nobody is chosen; with a profile
chosen, the confirm screen switches between the two. Guest sessions waiting to be kept or
discarded are never exported.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import pygame

from wobble_trainer.app.controls import Command, LeanMenu
from wobble_trainer.app.layout import ACCENT, BACKGROUND, GREEN, MUTED, PANEL, RED, Layout
from wobble_trainer.app.scene import AppContext, Tick
from wobble_trainer.app.scenes.menus import MenuScene
from wobble_trainer.app.widgets import draw_lean_menu
from wobble_trainer.feedback.cues import Cue
from wobble_trainer.reports.export import ExportError, ExportJob, select_sessions
from wobble_trainer.reports.usb import UsbDrive, check_writable, find_drives
from wobble_trainer.storage import StorageError

RESCAN_S = 1.0
"""How often to look for a stick while there is none (logic time)."""
EXPORT_FOLDER = "wobble-trainer"
"""The folder on the stick that holds one dated folder per export."""
IN_APP_FORMATS = ("csv", "pdf")
APP_ANGLE_SLICE = 1000
"""Samples of angle recomputation per logic step: about a frame's time on a Raspberry Pi."""


class Stage(StrEnum):
    NO_DATA = "no-data"
    NOTHING = "nothing"
    NO_STICK = "no-stick"
    READ_ONLY = "read-only"
    FULL = "full"
    READY = "ready"
    WRITING = "writing"
    FINISHING = "finishing"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"


OPTIONS: dict[Stage, list[str]] = {
    Stage.NO_DATA: ["Back"],
    Stage.NOTHING: ["Back"],
    Stage.NO_STICK: ["Back"],
    Stage.READ_ONLY: ["Try again", "Back"],
    Stage.FULL: ["Try again", "Back"],
    Stage.READY: ["Export", "Cancel"],
    Stage.WRITING: ["Stop"],
    Stage.FINISHING: ["Please wait"],
    Stage.DONE: ["Done"],
    Stage.STOPPED: ["Done"],
    Stage.FAILED: ["Try again", "Back"],
}


def size_text(n: int) -> str:
    """Bytes for a person: ``"740 kB"``, ``"12.5 MB"``, ``"3.2 GB"``."""
    if n < 1_000_000:
        return f"{max(1, round(n / 1000))} kB"
    if n < 1_000_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e9:.1f} GB"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class ExportScene(MenuScene):
    """Export sessions to a USB stick. ``usb_root``, ``mounts``, ``sync`` and ``now`` are there
    for tests (a fake folder tree, no real flush, a fixed clock)."""

    title = "Export to USB stick"
    clinician_only = True
    """It reaches everybody's data: in a clinic's kiosk only after the PIN."""

    def __init__(
        self,
        app: AppContext,
        *,
        formats: Sequence[str] = IN_APP_FORMATS,
        usb_root: str | Path = "/",
        mounts: str | None = None,
        exclude: Iterable[str | Path] | None = None,
        sync: Callable[[], None] = os.sync,
        now: Callable[[], datetime] | None = None,
        angle_slice: int = APP_ANGLE_SLICE,
        all_profiles: bool | None = None,
    ) -> None:
        self.options = list(OPTIONS[Stage.NO_STICK])
        super().__init__(app)
        self.formats = tuple(formats)
        self.usb_root = Path(usb_root)
        self.mounts = mounts
        self.exclude = list(exclude) if exclude is not None else self._default_exclude()
        self.sync = sync
        self.now = now or (lambda: datetime.now().astimezone())
        self.angle_slice = angle_slice
        profile = app.profile
        self.profile = profile if profile is not None and not profile.is_guest else None
        self.all_profiles = self.profile is None if all_profiles is None else all_profiles
        """Export every profile's sessions (else only :attr:`profile`'s); switchable on the
        confirm screen when a profile is chosen."""
        self.stage = Stage.NO_STICK
        self.message = ""
        self.drive: UsbDrive | None = None
        self.job: ExportJob | None = None
        self.items: list = []
        self.who = ""
        self._since_scan = 0.0
        self._finishing_for = 0.0
        self._finishing_drawn = False
        self._looked = False

    def _default_exclude(self) -> list[Path]:
        """The data directory never counts as a stick (an export must not land on it)."""
        db = self.app.db
        return [Path(db.path).parent] if db is not None and hasattr(db, "path") else []

    # -- stages ------------------------------------------------------------------------------
    def _options(self, stage: Stage) -> list[str]:
        options = list(OPTIONS[stage])
        if stage is Stage.READY and self.profile is not None:
            # The scope can be switched: this profile's sessions, or everybody's.
            options.insert(1, f"Only {self.profile.name}" if self.all_profiles else "All profiles")
        return options

    def _set(self, stage: Stage, message: str) -> None:
        self.stage = stage
        self.message = message
        options = self._options(stage)
        if self.options != options:
            self.options = options
            self.menu = LeanMenu(len(self.options), allow_back=self.allow_back)
            self._shown_for = 0.0

    def enter(self) -> None:
        super().enter()
        if not self._looked:
            self._looked = True
            self.look()

    resume = enter

    def look(self) -> None:
        """Work out what can be exported and where; sets the stage and its message."""
        db = self.app.db
        if db is None:
            self._set(
                Stage.NO_DATA,
                "No session data is available (the database could not be "
                "opened), so there is nothing to export.",
            )
            return
        profile = self.profile
        try:
            if profile is not None and not self.all_profiles:
                self.items = select_sessions(db, profile=profile.name)
                self.who = profile.name
            else:
                self.items = select_sessions(db, all_profiles=True)
                self.who = "every profile"
        except (ExportError, StorageError) as exc:
            self._set(Stage.NO_DATA, f"The sessions could not be read: {exc}")
            return
        if not self.items:
            self._set(Stage.NOTHING, f"There are no sessions of {self.who} to export yet.")
            return
        drives = find_drives(self.usb_root, mounts=self.mounts, exclude=self.exclude)
        if not drives:
            self._set(
                Stage.NO_STICK,
                "Plug a USB stick into the trainer. It will be found by itself a moment later.",
            )
            return
        problems = []
        usable = []
        for drive in drives:
            reason = (
                "The USB stick is read-only (is its write-protect switch on?)."
                if drive.read_only
                else check_writable(drive.path)
            )
            if reason is None:
                usable.append(drive)
            else:
                problems.append((drive, reason))
        if not usable:
            drive, reason = problems[0]
            stage = Stage.FULL if "full" in reason else Stage.READ_ONLY
            if stage is Stage.FULL:
                advice = "Free some space on it or use another stick, then try again."
            elif "read-only" in reason:
                advice = "Switch its write protection off or use another stick, then try again."
            else:
                advice = "Use another stick, then try again."
            self.drive = drive
            self._set(stage, f"{reason} {advice}")
            return
        drive = max(usable, key=lambda d: d.free_bytes)
        self.drive = drive
        self.job = self._make_job(drive)
        need = self.job.estimate_bytes()
        if need > drive.free_bytes:
            self._set(
                Stage.FULL,
                f'The USB stick "{drive.label}" is full: it has '
                f"{size_text(drive.free_bytes)} free and the export needs about "
                f"{size_text(need)}. Free some space or use a bigger stick.",
            )
            return
        what = " and ".join(
            {"csv": "data files (CSV)", "json": "data files (JSON)", "pdf": "PDF reports"}[f]
            for f in self.formats
        )
        self._set(
            Stage.READY,
            f"{plural(len(self.items), 'session')} of {self.who} will be "
            f'saved to the USB stick "{drive.label}" ({size_text(drive.free_bytes)} free) '
            f"as {what}.",
        )

    def _make_job(self, drive: UsbDrive) -> ExportJob:
        stamp = self.now()
        base = drive.path / EXPORT_FOLDER / stamp.strftime("%Y-%m-%d_%H%M%S")
        out, n = base, 1
        while out.exists():
            n += 1
            out = base.with_name(f"{base.name}-{n}")
        return ExportJob(
            self.app.db,
            self.items,
            out,
            self.formats,
            exported_at=stamp,
            angle_slice=self.angle_slice,
        )

    def start_writing(self) -> None:
        assert self.job is not None and self.drive is not None
        self._set(Stage.WRITING, "Do not remove the USB stick.")

    def stop(self) -> None:
        """Stop writing: what was written stays, everything is flushed before "safe"."""
        if self.stage is Stage.WRITING:
            self._finish(stopped=True)

    def _finish(self, *, stopped: bool = False, error: str = "") -> None:
        self._flush()
        job = self.job
        done = job.result.sessions if job else 0
        total = len(self.items)
        where = self._where()
        if error:
            self._set(
                Stage.FAILED,
                f"{error}\n{done} of {plural(total, 'session')} were saved"
                f"{where}. You can remove the USB stick safely.",
            )
            self.app.feedback.cue(Cue.EDGE)
        elif stopped:
            self._set(
                Stage.STOPPED,
                f"Export stopped. You can remove the USB stick safely.\n"
                f"{done} of {plural(total, 'session')} were saved{where}.",
            )
        else:
            skipped = len(job.result.no_pdf) if job else 0
            self._set(
                Stage.DONE,
                f"Done: you can remove the USB stick safely.\n"
                f"{plural(done, 'session')} saved{where}."
                + (
                    f"\nNo PDF for {plural(skipped, 'session')} with no completed trial."
                    if skipped
                    else ""
                ),
            )
            self.app.feedback.cue(Cue.END)

    def _where(self) -> str:
        """`` on "STICK" in wobble-trainer / 2025-06-01_100000`` (spaced so it wraps on a
        narrow screen)."""
        if self.job is None or self.drive is None:
            return ""
        try:
            rel = " / ".join(self.job.out_dir.relative_to(self.drive.path).parts)
        except ValueError:
            rel = str(self.job.out_dir)
        return f' on "{self.drive.label}" in {rel}'

    def _flush(self) -> None:
        # A failed flush leaves nothing more to do; the message still says what was saved.
        with contextlib.suppress(OSError):
            self.sync()

    # -- input -------------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        option = self.options[index]
        if option == "Export" and self.stage is Stage.READY:
            self.start_writing()
        elif option == "Stop":
            self.stop()
        elif option == "Try again":
            self.job = None
            self.look()
        elif self.stage is Stage.READY and option != "Cancel":
            self.all_profiles = not self.all_profiles  # "All profiles" / "Only NAME"
            self.job = None
            self.look()
        elif option in ("Back", "Cancel", "Done"):
            self.app.pop()

    def back(self) -> None:
        if self.stage is Stage.WRITING:
            self.stop()
        elif self.stage is not Stage.FINISHING:
            self.app.pop()

    def command(self, command: Command) -> None:
        if self.stage in (Stage.WRITING, Stage.FINISHING) and command in (
            Command.MENU,
            Command.BACK,
        ):
            self.stop()  # never leave with the stick half written
            return
        super().command(command)

    # -- the fixed step ----------------------------------------------------------------------
    def update(self, dt: float, tick: Tick) -> None:
        super().update(dt, tick)
        if self.stage is Stage.NO_STICK:
            self._since_scan += dt
            if self._since_scan >= RESCAN_S:
                self._since_scan = 0.0
                self.look()
        elif self.stage is Stage.WRITING:
            assert self.job is not None
            try:
                if self.job.step():
                    self._set(Stage.FINISHING, "Finishing writing. Do not remove the USB stick.")
            except ExportError as exc:
                self._finish(error=_sentence(str(exc)))
            except StorageError as exc:
                self._finish(error=f"The sessions could not be read ({exc}).")
        elif self.stage is Stage.FINISHING:
            self._finishing_for += dt
            # Let "Finishing" be drawn once first: the flush may take seconds on a slow stick.
            if self._finishing_drawn or self._finishing_for >= 0.1:
                self._finish()

    # -- drawing -----------------------------------------------------------------------------
    def render(self, surface: pygame.Surface, layout: Layout) -> None:
        self.buttons = []
        surface.fill(BACKGROUND)
        y = layout.title(surface, self.title)
        m = layout.margin
        colour = {
            Stage.DONE: GREEN,
            Stage.STOPPED: GREEN,
            Stage.FAILED: RED,
            Stage.FULL: RED,
            Stage.READ_ONLY: RED,
        }.get(self.stage, ACCENT)
        if self.stage in (Stage.WRITING, Stage.FINISHING) and self.job is not None:
            y = self._draw_progress(surface, layout, y)
        area = pygame.Rect(m * 2, y, layout.width - 4 * m, layout.height // 2)
        y += layout.wrapped(surface, self.message, layout.body_size, area, colour) + m
        if self.stage is Stage.FINISHING:
            self._finishing_drawn = True
        draw_lean_menu(surface, layout, self.options, self.menu, y, self.buttons)

    def _draw_progress(self, surface: pygame.Surface, layout: Layout, y: int) -> int:
        job = self.job
        assert job is not None
        m = layout.margin
        rect = pygame.Rect(m * 2, y, layout.width - 4 * m, max(18, layout.body_size))
        pygame.draw.rect(surface, PANEL, rect, border_radius=rect.height // 2)
        filled = rect.copy()
        filled.width = max(rect.height, round(rect.width * job.fraction))
        pygame.draw.rect(surface, ACCENT, filled, border_radius=rect.height // 2)
        layout.text(
            surface,
            f"{round(100 * job.fraction)}%",
            layout.small_size,
            rect.center,
            BACKGROUND if job.fraction > 0.55 else MUTED,
        )
        y = rect.bottom + m
        status = job.status if self.stage is Stage.WRITING else "Writing the last files"
        text_rect = layout.text(
            surface,
            status,
            layout.small_size,
            (layout.width // 2, y + layout.small_size // 2),
            MUTED,
        )
        return text_rect.bottom + m


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "The export failed."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
