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

from wobble_trainer.reports.data import SessionBundle, load_bundle
from wobble_trainer.reports.export import (
    ExportError,
    ExportJob,
    read_session_folder,
    read_session_json,
    select_sessions,
)
from wobble_trainer.reports.pdf import (
    progress_pdf,
    session_pdf,
    write_progress_pdf,
    write_session_pdf,
)
from wobble_trainer.reports.usb import UsbDrive, check_writable, find_drives

__all__ = [
    "ExportError",
    "ExportJob",
    "SessionBundle",
    "UsbDrive",
    "check_writable",
    "find_drives",
    "load_bundle",
    "progress_pdf",
    "read_session_folder",
    "read_session_json",
    "select_sessions",
    "session_pdf",
    "write_progress_pdf",
    "write_session_pdf",
]
