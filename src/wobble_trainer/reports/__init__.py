"""Reports and export: what leaves the trainer for the clinician and for other programs.

* :mod:`~wobble_trainer.reports.data` — a stored session with its profile, calibration and board
  angles recomputed from the raw trace (the one source of every figure below);
* :mod:`~wobble_trainer.reports.pdf` — the one-page session report and the progress report
  (fpdf2, plots drawn with its own primitives);
* :mod:`~wobble_trainer.reports.export` — the open CSV/JSON export format (documented there),
  :class:`~wobble_trainer.reports.export.ExportJob` and ``wobble export``;
* :mod:`~wobble_trainer.reports.usb` — finding a writable USB stick for the in-app export
  (:class:`wobble_trainer.app.scenes.export.ExportScene`).
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are loaded on first use: ``wobble --help`` and the app's start-up should not pay for
# the PDF library (fpdf2 with fontTools and Pillow takes about a second to import on a Pi).
_WHERE = {
    "SessionBundle": "data",
    "load_bundle": "data",
    "ExportError": "export",
    "ExportJob": "export",
    "read_session_folder": "export",
    "read_session_json": "export",
    "select_sessions": "export",
    "progress_pdf": "pdf",
    "session_pdf": "pdf",
    "write_progress_pdf": "pdf",
    "write_session_pdf": "pdf",
    "UsbDrive": "usb",
    "check_writable": "usb",
    "find_drives": "usb",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
