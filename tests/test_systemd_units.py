"""The kiosk's systemd unit and its install/uninstall scripts.

- The unit file is parsed and checked for every directive the appliance relies on.
- ``systemd-analyze verify`` and ``systemd-analyze security --offline=true`` run when the tool is
  installed (skipped with the reason otherwise); the exposure score must be at most 3.5.
- install.sh and uninstall.sh run against a fake system: every command they call (apt-get,
  dpkg-query, getent, useradd, systemctl, python3 -m venv, pip, raspi-config, ...) is a small
  script on PATH that records the call and keeps state in files, and every file path is moved
  under a temporary root with WOBBLE_INSTALL_ROOT. That checks the dry run (prints, changes
  nothing) and idempotence (a second run makes no change at all) without root or a Pi.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SYSTEMD_DIR = REPO / "systemd"
UNIT_NAME = "wobble-trainer.service"
UNIT_PATH = SYSTEMD_DIR / UNIT_NAME
INSTALL = SYSTEMD_DIR / "install.sh"
UNINSTALL = SYSTEMD_DIR / "uninstall.sh"
MAX_EXPOSURE = 3.5
GROUPS = ["i2c", "gpio", "video", "render", "input", "audio"]


# --------------------------------------------------------------------------- unit file parsing


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file as ordered (key, value) lists (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"assignment outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not an assignment: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in section if k == key]


def one(section: list[tuple[str, str]], key: str) -> str:
    found = values(section, key)
    assert len(found) == 1, f"{key}= appears {len(found)} times"
    return found[0]


def seconds(value: str) -> float:
    """A systemd time span with the simple units used in the unit (``10``, ``10s``, ``2min``)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m)?", value)
    assert match, f"unsupported time span {value!r}"
    scale = {"ms": 0.001, None: 1.0, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0}[match[2]]
    return float(match[1]) * scale


@pytest.fixture(scope="module")
def unit() -> dict[str, list[tuple[str, str]]]:
    return parse_unit(UNIT_PATH.read_text())


def test_unit_starts_the_kiosk_as_a_notify_service_with_watchdog(unit) -> None:
    service = unit["Service"]
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    assert one(service, "ExecStart") == "/opt/wobble-trainer/venv/bin/wobble --kiosk"
    watchdog = seconds(one(service, "WatchdogSec"))
    assert 2.0 <= watchdog <= 60.0
    # The start timeout covers imports + sensor probe + first frame, longer than the watchdog.
    assert seconds(one(service, "TimeoutStartSec")) > watchdog
    assert one(service, "Restart") == "on-failure"
    assert unit["Install"] == [("WantedBy", "multi-user.target")]


def test_unit_user_groups_and_state(unit) -> None:
    service = unit["Service"]
    assert one(service, "User") == "wobble"
    assert sorted(one(service, "SupplementaryGroups").split()) == sorted(GROUPS)
    assert one(service, "StateDirectory") == "wobble-trainer"
    assert one(service, "WorkingDirectory") == "/var/lib/wobble-trainer"
    env = dict(v.split("=", 1) for e in values(service, "Environment") for v in e.split())
    assert env["HOME"] == "/var/lib/wobble-trainer"
    assert env["LG_WD"] == "/run/wobble-trainer"  # lgpio's pipes: needs a writable directory
    assert one(service, "RuntimeDirectory") == "wobble-trainer"


def test_unit_owns_tty1_with_kmsdrm_and_logs_to_journal(unit) -> None:
    service = unit["Service"]
    env = dict(v.split("=", 1) for e in values(service, "Environment") for v in e.split())
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert env["GPIOZERO_PIN_FACTORY"] == "lgpio"
    assert one(service, "TTYPath") == "/dev/tty1"
    assert one(service, "StandardInput") == "tty"
    assert one(service, "StandardOutput") == "journal"
    assert one(service, "StandardError") == "journal"
    assert "getty@tty1.service" in one(unit["Unit"], "Conflicts").split()
    assert "getty@tty1.service" in " ".join(values(unit["Unit"], "After")).split()


def test_unit_hardening_keeps_the_devices_it_needs(unit) -> None:
    service = unit["Service"]
    # PrivateDevices would hide /dev/i2c-1, /dev/gpiochip*, /dev/dri and /dev/input.
    assert values(service, "PrivateDevices") in ([], ["no"], ["false"])
    assert one(service, "DevicePolicy") == "closed"
    allowed = {tuple(v.split()) for v in values(service, "DeviceAllow")}
    for device, mode in [
        ("char-i2c", "rw"),
        ("char-gpiochip", "rw"),
        ("char-drm", "rw"),
        ("char-input", "r"),
        ("char-alsa", "rw"),
        ("/dev/tty1", "rw"),
    ]:
        assert (device, mode) in allowed, f"DeviceAllow={device} {mode} missing"
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "ProtectHome") == "yes"
    assert one(service, "CapabilityBoundingSet") == ""


def test_install_script_agrees_with_the_unit() -> None:
    text = INSTALL.read_text()
    assert "readonly PREFIX=/opt/wobble-trainer" in text
    assert "readonly SERVICE_USER=wobble" in text
    assert "readonly SERVICE_GROUPS=(i2c gpio video render input audio)" in text
    assert "readonly STATE_DIR=/var/lib/wobble-trainer" in text
    for pkg in ["python3-venv", "python3-gpiozero", "python3-lgpio", "i2c-tools"]:
        assert re.search(rf"\b{re.escape(pkg)}\b", text)


# --------------------------------------------------------------------------- systemd-analyze


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    return tool


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    tool = _systemd_analyze()
    # verify wants ExecStart to exist and the units it depends on to load. A throw-away root with
    # a stand-in executable and a copy of this machine's system units provides both, without
    # touching /opt or /etc here.
    system_units = next(
        (d for d in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if d.is_dir()),
        None,
    )
    if system_units is None or not (system_units / "multi-user.target").exists():
        pytest.skip("no systemd unit directory with multi-user.target on this machine")
    root = tmp_path / "root"
    exe = root / "opt/wobble-trainer/venv/bin/wobble"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT_PATH, root / "etc/systemd/system" / UNIT_NAME)
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    result = subprocess.run(
        [tool, "verify", f"--root={root}", "--man=no", UNIT_NAME],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert output == "", f"systemd-analyze verify complained:\n{output}"


def test_systemd_analyze_security_exposure_at_most_3_5() -> None:
    tool = _systemd_analyze()
    result = subprocess.run(
        [tool, "security", "--offline=true", "--no-pager", str(UNIT_PATH)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    text = result.stdout + result.stderr
    if "--offline" in text and "unrecognized" in text:
        pytest.skip("this systemd-analyze has no --offline (needs systemd ≥ 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", text)
    assert match, f"no exposure score in output:\n{text}"
    assert float(match[1]) <= MAX_EXPOSURE, text


# --------------------------------------------------------------------------- shellcheck


def test_scripts_are_shellcheck_clean() -> None:
    tool = shutil.which("shellcheck")
    if tool is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    result = subprocess.run(
        [tool, str(INSTALL), str(UNINSTALL)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_strict_and_executable() -> None:
    for script in (INSTALL, UNINSTALL):
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash\n")
        assert "\nset -euo pipefail\n" in text
        assert os.access(script, os.X_OK), f"{script.name} is not executable"


# --------------------------------------------------------------------------- fake system

# Each fake command logs "name args..." to $FAKE/calls and keeps its state in files under $FAKE.
FAKE_COMMANDS = {
    "dpkg-query": r"""
pkg=${!#}
grep -qx -- "$pkg" "$FAKE/pkgs" 2>/dev/null || exit 1
printf 'install ok installed\n'
""",
    "apt-get": r"""
if [[ $1 == install ]]; then
    shift
    for a in "$@"; do [[ $a == -* ]] || printf '%s\n' "$a" >>"$FAKE/pkgs"; done
fi
""",
    "getent": r"""
case $1 in
    group) grep -qx -- "$2" "$FAKE/groups" ;;
    passwd) grep -qx -- "$2" "$FAKE/users" ;;
    *) exit 2 ;;
esac
""",
    "groupadd": r"""printf '%s\n' "${!#}" >>"$FAKE/groups" """,
    "useradd": r"""
user=${!#}
printf '%s\n' "$user" >>"$FAKE/users"
while (($#)); do
    if [[ $1 == --groups ]]; then tr , '\n' <<<"$2" >"$FAKE/member.$user"; fi
    shift
done
""",
    "usermod": r"""
user=${!#}
while (($#)); do
    if [[ $1 == --groups ]]; then tr , '\n' <<<"$2" >>"$FAKE/member.$user"; fi
    shift
done
""",
    "userdel": r"""
grep -vx -- "$1" "$FAKE/users" >"$FAKE/users.new" || true
mv "$FAKE/users.new" "$FAKE/users"
rm -f "$FAKE/member.$1"
""",
    "id": r"""
[[ $1 == -nG ]] || exit 2
printf '%s\n' "$2 $(tr '\n' ' ' <"$FAKE/member.$2")"
""",
    "python3": r"""
[[ $1 == -m && $2 == venv ]] || exit 2
venv=${!#}
mkdir -p "$venv/bin"
printf 'home = /usr/bin\ninclude-system-site-packages = true\n' >"$venv/pyvenv.cfg"
printf '#!/bin/sh\n' >"$venv/bin/python"
cat >"$venv/bin/pip" <<'PIP'
#!/usr/bin/env bash
printf 'pip %s\n' "$*" >>"$FAKE/calls"
printf '#!/bin/sh\n' >"$(dirname "$0")/wobble"
chmod +x "$(dirname "$0")/wobble"
PIP
chmod +x "$venv/bin/python" "$venv/bin/pip"
""",
    "systemctl": r"""
quiet=0
args=()
for a in "$@"; do [[ $a == --quiet ]] && quiet=1 || args+=("$a"); done
set -- "${args[@]}"
case $1 in
    is-enabled) grep -qx -- "$2" "$FAKE/enabled" 2>/dev/null ;;
    is-active) grep -qx -- "$2" "$FAKE/active" 2>/dev/null ;;
    enable) printf '%s\n' "$2" >>"$FAKE/enabled" ;;
    disable)
        grep -vx -- "$2" "$FAKE/enabled" >"$FAKE/enabled.new" || true
        mv "$FAKE/enabled.new" "$FAKE/enabled"
        ;;
    start) printf '%s\n' "$2" >>"$FAKE/active" ;;
    stop)
        grep -vx -- "$2" "$FAKE/active" >"$FAKE/active.new" || true
        mv "$FAKE/active.new" "$FAKE/active"
        ;;
    daemon-reload | restart) ;;
    *) exit 2 ;;
esac
""",
    "raspi-config": r"""
[[ $1 == nonint ]] || exit 2
case $2 in
    get_i2c) cat "$FAKE/i2c" ;;
    do_i2c) printf '%s\n' "$3" >"$FAKE/i2c" ;;
    *) exit 2 ;;
esac
""",
}

# Calls that change the system; a second run must make none of them.
MUTATING = re.compile(
    r"^(apt-get|groupadd|useradd|usermod|userdel|python3|pip install"
    r"|systemctl (enable|disable|daemon-reload|start|stop|restart)"
    r"|raspi-config nonint do_)"
)

CONFIG_TXT = "# Raspberry Pi OS config.txt\ndtoverlay=vc4-kms-v3d\n[cm4]\notg_mode=1\n"


class FakeSystem:
    """A temporary root plus fake commands; run the scripts against it."""

    def __init__(self, tmp: Path, raspi_config: bool = False) -> None:
        self.root = tmp / "root"
        self.fake = tmp / "fake"
        self.bin = tmp / "bin"
        for d in (self.root, self.fake, self.bin):
            d.mkdir()
        for name, body in FAKE_COMMANDS.items():
            if name == "raspi-config" and not raspi_config:
                continue
            path = self.bin / name
            path.write_text(
                f'#!/usr/bin/env bash\nset -euo pipefail\nprintf "%s\\n" "{name} $*" '
                f'>>"$FAKE/calls"\n{body}\n'
            )
            path.chmod(0o755)
        # A typical Raspberry Pi OS before installing: no Pi packages, getty on tty1.
        (self.fake / "groups").write_text("video\naudio\nrender\ninput\n")
        (self.fake / "users").write_text("pi\n")
        (self.fake / "enabled").write_text("getty@tty1.service\n")
        (self.fake / "i2c").write_text("1\n")
        (self.fake / "calls").write_text("")
        boot = self.root / "boot/firmware"
        boot.mkdir(parents=True)
        (boot / "config.txt").write_text(CONFIG_TXT)
        (self.root / "run/systemd/system").mkdir(parents=True)  # "systemd is running"

    def run(self, script: Path, *args: str, source: Path | None = None) -> str:
        """Run a script; returns its output. Clears the call log first."""
        (self.fake / "calls").write_text("")
        env = {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "FAKE": str(self.fake),
            "WOBBLE_INSTALL_ROOT": str(self.root),
            "LC_ALL": "C",
        }
        cmd = ["bash", str(script), *args]
        if source is not None:
            cmd += ["--source", str(source)]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def calls(self) -> list[str]:
        return (self.fake / "calls").read_text().splitlines()

    def mutating_calls(self) -> list[str]:
        return [c for c in self.calls() if MUTATING.match(c)]

    def lines(self, name: str) -> list[str]:
        path = self.fake / name
        return path.read_text().split() if path.exists() else []

    def snapshot(self) -> dict[str, bytes | str]:
        """Every file under the root and the fake state (contents), for before/after checks."""
        snap: dict[str, bytes | str] = {}
        for base in (self.root, self.fake):
            for path in sorted(base.rglob("*")):
                if path.name == "calls":
                    continue
                key = str(path.relative_to(base.parent))
                snap[key] = path.read_bytes() if path.is_file() else "<dir>"
        return snap


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A small stand-in checkout: the real systemd/ folder, a tiny src/ (pip is fake)."""
    src = tmp_path / "checkout"
    shutil.copytree(SYSTEMD_DIR, src / "systemd")
    (src / "src/wobble_trainer").mkdir(parents=True)
    (src / "src/wobble_trainer/__init__.py").write_text('__version__ = "0"\n')
    (src / "pyproject.toml").write_text('[project]\nname = "wobble-trainer"\n')
    (src / "README.md").write_text("readme\n")
    return src


def test_install_dry_run_prints_actions_and_changes_nothing(tmp_path: Path, source: Path) -> None:
    system = FakeSystem(tmp_path)
    before = system.snapshot()
    out = system.run(INSTALL, "--dry-run", source=source)
    assert system.snapshot() == before
    assert system.mutating_calls() == []
    for expected in [
        "apt-get install -y --no-install-recommends python3-venv python3-gpiozero",
        "groupadd --system i2c",
        "groupadd --system gpio",
        "useradd --system",
        "--groups i2c\\,gpio\\,video\\,render\\,input\\,audio wobble",
        "python3 -m venv --system-site-packages",
        "pip install",
        "enable I2C in",
        "set I2C to 400 kHz",
        "systemctl enable wobble-trainer.service",
        "systemctl disable getty@tty1.service",
    ]:
        assert expected in out, f"{expected!r} not in dry-run output:\n{out}"
    assert "would be made" in out


def test_install_twice_changes_nothing_the_second_time(tmp_path: Path, source: Path) -> None:
    system = FakeSystem(tmp_path)
    first = system.run(INSTALL, source=source)
    assert "change(s) made" in first
    root = system.root

    # What the first run did.
    assert (root / "etc/systemd/system" / UNIT_NAME).read_bytes() == UNIT_PATH.read_bytes()
    assert (root / "etc/modules-load.d/wobble-trainer.conf").read_text() == "i2c-dev\n"
    config = (root / "boot/firmware/config.txt").read_text()
    # Appended under an [all] header because the file ended in a [cm4] section.
    assert config.startswith(CONFIG_TXT)
    assert config[len(CONFIG_TXT) :].splitlines() == [
        "[all]",
        "dtparam=i2c_arm=on",
        "dtparam=i2c_arm_baudrate=400000",
    ]
    assert (root / "opt/wobble-trainer/venv/bin/wobble").exists()
    assert (root / "opt/wobble-trainer/README.md").read_bytes() == (
        SYSTEMD_DIR / "README.md"
    ).read_bytes()
    assert "wobble" in system.lines("users")
    assert sorted(system.lines("member.wobble")) == sorted(GROUPS)
    assert {"python3-venv", "python3-gpiozero", "python3-lgpio", "i2c-tools"} <= set(
        system.lines("pkgs")
    )
    assert system.lines("enabled") == [UNIT_NAME]
    assert any(c.startswith("systemctl daemon-reload") for c in system.calls())
    assert (root / "opt/wobble-trainer/getty-tty1-was-enabled").exists()

    # The second run: no change, no mutating command, identical files.
    after_first = system.snapshot()
    second = system.run(INSTALL, source=source)
    assert system.mutating_calls() == []
    assert system.snapshot() == after_first
    assert "nothing to change" in second
    assert not [line for line in second.splitlines() if line.startswith("change:")]

    # And a dry run now has nothing to say either.
    assert "nothing to change" in system.run(INSTALL, "--dry-run", source=source)


def test_install_reinstalls_only_what_changed(tmp_path: Path, source: Path) -> None:
    system = FakeSystem(tmp_path)
    system.run(INSTALL, source=source)
    (source / "src/wobble_trainer/__init__.py").write_text('__version__ = "1"\n')
    out = system.run(INSTALL, source=source)
    assert [c.split()[:2] for c in system.mutating_calls()] == [["pip", "install"]]
    assert "1 change(s) made" in out

    # A user that lost a group gets exactly that group back.
    member = system.fake / "member.wobble"
    member.write_text("\n".join(g for g in GROUPS if g != "gpio") + "\n")
    system.run(INSTALL, source=source)
    assert system.mutating_calls() == ["usermod --append --groups gpio wobble"]


def test_install_uses_raspi_config_when_present(tmp_path: Path, source: Path) -> None:
    system = FakeSystem(tmp_path, raspi_config=True)
    system.run(INSTALL, source=source)
    assert "raspi-config nonint do_i2c 0" in system.calls()
    config = (system.root / "boot/firmware/config.txt").read_text()
    assert "dtparam=i2c_arm=on" not in config  # raspi-config's job (faked here)
    assert "dtparam=i2c_arm_baudrate=400000" in config
    system.run(INSTALL, source=source)
    assert system.mutating_calls() == []


def test_install_keeps_an_existing_baud_rate(tmp_path: Path, source: Path) -> None:
    system = FakeSystem(tmp_path)
    config = system.root / "boot/firmware/config.txt"
    config.write_text("[all]\ndtparam=i2c_arm=on,i2c_arm_baudrate=100000\n")
    system.run(INSTALL, source=source)
    assert config.read_text() == "[all]\ndtparam=i2c_arm=on,i2c_arm_baudrate=100000\n"


def test_uninstall_keeps_data_unless_purge(tmp_path: Path, source: Path) -> None:
    system = FakeSystem(tmp_path)
    system.run(INSTALL, source=source)
    state = system.root / "var/lib/wobble-trainer"
    state.mkdir(parents=True)
    (state / "wobble.sqlite").write_text("patients")
    (system.fake / "active").write_text(UNIT_NAME + "\n")

    before = system.snapshot()
    dry = system.run(UNINSTALL, "--dry-run")
    assert system.snapshot() == before and system.mutating_calls() == []
    assert "systemctl stop wobble-trainer.service" in dry

    out = system.run(UNINSTALL)
    assert not (system.root / "etc/systemd/system" / UNIT_NAME).exists()
    assert not (system.root / "opt/wobble-trainer").exists()
    assert not (system.root / "etc/modules-load.d/wobble-trainer.conf").exists()
    assert system.lines("enabled") == ["getty@tty1.service"]
    assert system.lines("active") == []
    assert (state / "wobble.sqlite").read_text() == "patients"
    assert "wobble" in system.lines("users")
    assert "kept data" in out

    system.run(UNINSTALL)
    assert system.mutating_calls() == []

    system.run(UNINSTALL, "--purge")
    assert not state.exists()
    assert "wobble" not in system.lines("users")
    assert "nothing to change" in system.run(UNINSTALL, "--purge")


# --------------------------------------------------------------------------- the hub's unit

HUB_UNIT_NAME = "wobble-hub.service"
HUB_UNIT_PATH = SYSTEMD_DIR / HUB_UNIT_NAME


def test_hub_unit_serves_from_its_own_state_directory() -> None:
    unit = parse_unit(HUB_UNIT_PATH.read_text())
    service = unit["Service"]
    assert one(service, "ExecStart").startswith("/opt/wobble-hub/venv/bin/wobble hub serve ")
    assert one(service, "StateDirectory") == "wobble-hub"
    assert one(service, "StateDirectoryMode") == "0700"
    assert one(service, "EnvironmentFile") == "-/etc/wobble-hub.env"
    assert one(service, "Restart") == "on-failure"
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "CapabilityBoundingSet") == ""
    assert "AF_INET" in one(service, "RestrictAddressFamilies").split()
    assert unit["Install"] == [("WantedBy", "multi-user.target")]


def test_hub_unit_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    tool = _systemd_analyze()
    system_units = next(
        (d for d in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if d.is_dir()),
        None,
    )
    if system_units is None or not (system_units / "multi-user.target").exists():
        pytest.skip("no systemd unit directory with multi-user.target on this machine")
    root = tmp_path / "root"
    exe = root / "opt/wobble-hub/venv/bin/wobble"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(HUB_UNIT_PATH, root / "etc/systemd/system" / HUB_UNIT_NAME)
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    result = subprocess.run(
        [tool, "verify", f"--root={root}", "--man=no", HUB_UNIT_NAME],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert output == "", f"systemd-analyze verify complained:\n{output}"


def test_hub_unit_security_exposure_is_low() -> None:
    tool = _systemd_analyze()
    result = subprocess.run(
        [tool, "security", "--offline=true", "--no-pager", str(HUB_UNIT_PATH)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    text = result.stdout + result.stderr
    if "--offline" in text and "unrecognized" in text:
        pytest.skip("this systemd-analyze has no --offline (needs systemd ≥ 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", text)
    assert match, f"no exposure score in output:\n{text}"
    assert float(match[1]) <= MAX_EXPOSURE, text


def test_install_says_how_to_set_the_clinic_pin_until_it_is_set(
    tmp_path: Path, source: Path
) -> None:
    system = FakeSystem(tmp_path)
    out = system.run(INSTALL, source=source)  # not at a terminal: the command is printed
    assert "no clinician PIN yet" in out
    assert "wobble pin set" in out
    assert "WOBBLE_STATE_DIR=/var/lib/wobble-trainer" in out
    pin_file = system.root / "var/lib/wobble-trainer/clinician-pin"
    pin_file.parent.mkdir(parents=True)
    pin_file.write_text("{}\n")
    out = system.run(INSTALL, source=source)
    assert "ok:     clinician PIN set" in out
    assert "no clinician PIN yet" not in out
