"""Appliance plumbing: what the kiosk needs from the operating system.

``notify``: systemd's readiness/status/watchdog protocol (``Type=notify``, ``WatchdogSec=``);
``pin``: the clinician PIN (salted scrypt hash, constant-time check, lockout with growing delays).
The unit file and install scripts that go with them live in ``systemd/`` at the repository root.
"""
