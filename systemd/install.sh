#!/usr/bin/env bash
# Install Wobble Trainer as a kiosk appliance on Raspberry Pi OS (Bookworm or later).
#
#   sudo systemd/install.sh [--dry-run] [--start] [--source DIR]
#
# Idempotent: every step first checks whether it is needed, so a second run changes nothing and
# says so. --dry-run prints what would change without changing anything (no root needed).
#
# Steps: apt packages; groups and the service user; a venv with --system-site-packages under
# /opt/wobble-trainer (gpiozero and lgpio come from apt); pip install of this checkout; I2C on
# (raspi-config, else config.txt); the unit installed and enabled; getty moved off tty1; the
# clinic's clinician PIN (offered when run at a terminal, else the command to set it is printed).
#
# WOBBLE_INSTALL_ROOT (tests only): prefix for every file path the script reads or writes.
# Commands (apt-get, useradd, systemctl, ...) still run on this machine, so the test suite puts
# fake ones first on PATH.
set -euo pipefail
umask 022

readonly UNIT=wobble-trainer.service
readonly SERVICE_USER=wobble
readonly SERVICE_GROUPS=(i2c gpio video render input audio)
readonly PREFIX=/opt/wobble-trainer
readonly STATE_DIR=/var/lib/wobble-trainer
# python3-venv/gpiozero/lgpio/i2c-tools: the brief's list. The rest are what SDL's KMSDRM video
# (GBM, EGL, GLES and Mesa's V3D driver) and ALSA audio load at run time; Raspberry Pi OS Lite
# does not always have them.
readonly APT_PACKAGES=(
    python3-venv python3-gpiozero python3-lgpio i2c-tools
    libdrm2 libgbm1 libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri libasound2
)
readonly I2C_BAUDRATE_LINE=dtparam=i2c_arm_baudrate=400000

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE=$(dirname "$SCRIPT_DIR")
ROOT=${WOBBLE_INSTALL_ROOT:-/}
DRY_RUN=0
START=0
CHANGES=0

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

while (($#)); do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --start) START=1 ;;
        --source)
            SOURCE=${2:?--source needs a directory}
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            printf 'unknown option: %s\n' "$1" >&2
            usage >&2
            exit 2
            ;;
    esac
    shift
done

# A path on the target system (identity unless WOBBLE_INSTALL_ROOT is set).
p() { printf '%s%s' "${ROOT%/}" "$1"; }

ok() { printf 'ok:     %s\n' "$*"; }
note() { printf 'note:   %s\n' "$*"; }

# act DESCRIPTION COMMAND...: one change. Printed; executed unless --dry-run.
act() {
    local what=$1
    shift
    CHANGES=$((CHANGES + 1))
    if ((DRY_RUN)); then
        printf 'would:  %s\n        $' "$what"
        printf ' %q' "$@"
        printf '\n'
    else
        printf 'change: %s\n' "$what"
        "$@"
    fi
}

systemd_running() { [[ -d $(p /run/systemd/system) ]]; }

# Helpers run through act (so a dry run only prints them).
write_file() { # write_file MODE DEST CONTENT
    mkdir -p "$(dirname "$2")"
    printf '%s' "$3" >"$2.tmp"
    chmod "$1" "$2.tmp"
    mv -f "$2.tmp" "$2"
}
append_lines() { # append_lines FILE LINE...
    local file=$1
    shift
    printf '%s\n' "$@" >>"$file"
}
install_app() { # install_app DIGEST
    "$(p "$PREFIX")/venv/bin/pip" install --disable-pip-version-check --upgrade \
        --upgrade-strategy only-if-needed "$SOURCE"
    write_file 0644 "$(p "$PREFIX")/installed-source.sha256" "$1"$'\n'
}

# A digest of what pip would install, so an unchanged checkout is not reinstalled.
source_digest() {
    (
        cd "$SOURCE"
        find pyproject.toml README.md src -type f \
            ! -name '*.pyc' ! -path '*/__pycache__/*' ! -path '*.egg-info/*' -print0 |
            LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
    )
}

# The last section header before the end of config.txt, e.g. "[all]" or "[pi4]" (or empty).
last_config_section() { grep -E '^[[:space:]]*\[' "$1" | tail -n 1 | tr -d '[:space:]' || true; }

# ---------------------------------------------------------------------------------------------

if [[ ! -f $SOURCE/pyproject.toml || ! -f $SOURCE/systemd/$UNIT ]]; then
    printf 'not a Wobble Trainer checkout: %s\n' "$SOURCE" >&2
    exit 2
fi
if ((!DRY_RUN)) && [[ $ROOT == / ]] && ((EUID != 0)); then
    printf 'run as root (sudo %s), or use --dry-run\n' "$0" >&2
    exit 1
fi
((DRY_RUN)) && printf 'dry run: nothing will be changed\n'

# 1. apt packages -------------------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    act "refresh apt package lists" apt-get update
    act "install apt packages: ${missing[*]}" \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    ok "apt packages installed"
fi

# 2. groups and user ----------------------------------------------------------------------------
for group in "${SERVICE_GROUPS[@]}"; do
    # Raspberry Pi OS has them all (with udev rules); plain Debian lacks i2c and gpio.
    if ! getent group "$group" >/dev/null; then
        act "create system group $group" groupadd --system "$group"
    fi
done
group_list=$(
    IFS=,
    printf '%s' "${SERVICE_GROUPS[*]}"
)
if ! getent passwd "$SERVICE_USER" >/dev/null; then
    act "create system user $SERVICE_USER (groups $group_list)" \
        useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "Wobble Trainer kiosk" \
        --groups "$group_list" "$SERVICE_USER"
else
    read -r -a current_groups <<<"$(id -nG "$SERVICE_USER")"
    absent=()
    for group in "${SERVICE_GROUPS[@]}"; do
        found=0
        for have in "${current_groups[@]}"; do [[ $have == "$group" ]] && found=1; done
        ((found)) || absent+=("$group")
    done
    if ((${#absent[@]})); then
        act "add $SERVICE_USER to groups ${absent[*]}" \
            usermod --append --groups "$(
                IFS=,
                printf '%s' "${absent[*]}"
            )" "$SERVICE_USER"
    else
        ok "user $SERVICE_USER in groups $group_list"
    fi
fi

# 3. venv and the app ---------------------------------------------------------------------------
venv=$(p "$PREFIX")/venv
if [[ ! -x $venv/bin/python ]]; then
    act "create venv $PREFIX/venv (with system site packages)" \
        python3 -m venv --system-site-packages "$venv"
elif ! grep -qE '^include-system-site-packages *= *true' "$venv/pyvenv.cfg" 2>/dev/null; then
    act "recreate venv $PREFIX/venv with system site packages" \
        python3 -m venv --clear --system-site-packages "$venv"
else
    ok "venv $PREFIX/venv"
fi
digest=$(source_digest)
stamp=$(p "$PREFIX")/installed-source.sha256
if [[ ! -f $stamp || $(<"$stamp") != "$digest" ]] || [[ ! -x $venv/bin/wobble ]]; then
    act "pip install $SOURCE into $PREFIX/venv" install_app "$digest"
else
    ok "wobble-trainer installed from this checkout ($digest)"
fi
readme=$(p "$PREFIX")/README.md
if ! cmp -s "$SOURCE/systemd/README.md" "$readme"; then
    act "install $PREFIX/README.md" install -D -m 0644 "$SOURCE/systemd/README.md" "$readme"
else
    ok "$PREFIX/README.md"
fi

# 4. I2C ----------------------------------------------------------------------------------------
config_txt=
for candidate in /boot/firmware/config.txt /boot/config.txt; do
    if [[ -f $(p "$candidate") ]]; then
        config_txt=$(p "$candidate")
        break
    fi
done
if command -v raspi-config >/dev/null; then
    # get_i2c prints 0 when enabled (raspi-config's convention).
    if [[ $(raspi-config nonint get_i2c) == 0 ]]; then
        ok "I2C enabled (raspi-config)"
    else
        act "enable I2C (raspi-config)" raspi-config nonint do_i2c 0
    fi
elif [[ -n $config_txt ]]; then
    if grep -qE '^[[:space:]]*dtparam=(.*,)?i2c_arm=on' "$config_txt"; then
        ok "I2C enabled in $config_txt"
    else
        lines=()
        # Lines after a conditional section ([pi4], [cm4], ...) would only apply to that model.
        [[ $(last_config_section "$config_txt") == "[all]" ]] || lines+=("[all]")
        lines+=("dtparam=i2c_arm=on")
        act "enable I2C in $config_txt" append_lines "$config_txt" "${lines[@]}"
    fi
else
    note "no raspi-config and no config.txt: not a Raspberry Pi? enable I2C by hand"
fi
if [[ -n $config_txt ]]; then
    if grep -qE '^[[:space:]]*dtparam=(.*,)?i2c_arm_baudrate=' "$config_txt"; then
        # An existing value may be deliberate (e.g. 100 kHz for a long cable): keep it.
        ok "I2C baud rate set in $config_txt ($(grep -oE 'i2c_arm_baudrate=[0-9]+' \
            "$config_txt" | tail -n 1))"
    else
        lines=()
        [[ $(last_config_section "$config_txt") == "[all]" ]] || lines+=("[all]")
        lines+=("$I2C_BAUDRATE_LINE")
        act "set I2C to 400 kHz in $config_txt" append_lines "$config_txt" "${lines[@]}"
    fi
fi
modules_conf=$(p /etc/modules-load.d/wobble-trainer.conf)
if [[ ! -f $modules_conf || $(<"$modules_conf") != i2c-dev ]]; then
    act "load i2c-dev at boot ($modules_conf)" write_file 0644 "$modules_conf" $'i2c-dev\n'
else
    ok "i2c-dev loaded at boot"
fi

# The clinician menu's "shut down" and "reboot" run systemctl as the service user, which has no
# login session (and NoNewPrivileges rules out sudo): polkit lets exactly this user do these two.
polkit_rule=$(p /etc/polkit-1/rules.d/50-wobble-trainer.rules)
polkit_text='// Installed by Wobble Trainer: its kiosk may power off and reboot the device.
polkit.addRule(function (action, subject) {
    if (subject.user == "wobble" &&
        (action.id == "org.freedesktop.login1.power-off" ||
         action.id == "org.freedesktop.login1.power-off-multiple-sessions" ||
         action.id == "org.freedesktop.login1.reboot" ||
         action.id == "org.freedesktop.login1.reboot-multiple-sessions")) {
        return polkit.Result.YES;
    }
});'
if [[ ! -f $polkit_rule || $(<"$polkit_rule") != "$polkit_text" ]]; then
    act "allow $SERVICE_USER to shut down and reboot ($polkit_rule)" \
        write_file 0644 "$polkit_rule" "$polkit_text"$'\n'
else
    ok "shut down and reboot allowed for $SERVICE_USER"
fi

# 5. the unit -----------------------------------------------------------------------------------
unit_dest=$(p /etc/systemd/system/$UNIT)
unit_changed=0
if ! cmp -s "$SOURCE/systemd/$UNIT" "$unit_dest"; then
    act "install $unit_dest" install -D -m 0644 "$SOURCE/systemd/$UNIT" "$unit_dest"
    unit_changed=1
else
    ok "$UNIT up to date"
fi
if ((unit_changed)) && systemd_running; then
    act "reload systemd" systemctl daemon-reload
fi
if systemctl is-enabled --quiet "$UNIT" 2>/dev/null; then
    ok "$UNIT enabled"
else
    act "enable $UNIT at boot" systemctl enable "$UNIT"
fi
# The kiosk owns tty1 (the unit also Conflicts= with it). Remember it was on, for uninstall.
if systemctl is-enabled --quiet getty@tty1.service 2>/dev/null; then
    act "record that getty@tty1 was enabled" \
        write_file 0644 "$(p "$PREFIX")/getty-tty1-was-enabled" $'yes\n'
    act "disable the login prompt on tty1 (getty@tty1.service)" \
        systemctl disable getty@tty1.service
else
    ok "getty@tty1 disabled"
fi
# The clinic's clinician PIN. Without one, the kiosk's first start asks for it on the touch
# screen, where whoever touches first would set it: set it here, before handing over.
pin_file=$(p "$STATE_DIR")/clinician-pin
pin_command="sudo install -d -o $SERVICE_USER -g $SERVICE_USER -m 0700 $STATE_DIR && \
sudo -u $SERVICE_USER WOBBLE_STATE_DIR=$STATE_DIR $PREFIX/venv/bin/wobble pin set"
if [[ -f $pin_file ]]; then
    ok "clinician PIN set"
elif ((DRY_RUN)) || [[ ! -t 0 ]]; then
    note "no clinician PIN yet: set it before the trainer is handed over (else the first"
    note "person to touch the screen sets it): $pin_command"
else
    read -r -p "Set the clinic's clinician PIN now (4-8 digits, typed twice)? [Y/n] " answer
    if [[ ${answer,,} == n* ]]; then
        note "no clinician PIN yet: set it before the trainer is handed over: $pin_command"
    else
        act "create $STATE_DIR (0700, $SERVICE_USER)" \
            install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0700 "$(p "$STATE_DIR")"
        act "set the clinic's clinician PIN (wobble pin set)" \
            runuser -u "$SERVICE_USER" -- env WOBBLE_STATE_DIR="$(p "$STATE_DIR")" \
            "$venv/bin/wobble" pin set
    fi
fi
if ((START)) && systemd_running; then
    if systemctl is-active --quiet "$UNIT"; then
        if ((unit_changed)); then act "restart $UNIT" systemctl restart "$UNIT"; fi
    else
        act "start $UNIT" systemctl start "$UNIT"
    fi
fi

# -----------------------------------------------------------------------------------------------
if ((CHANGES == 0)); then
    printf 'nothing to change: Wobble Trainer is installed\n'
elif ((DRY_RUN)); then
    printf '%d change(s) would be made\n' "$CHANGES"
else
    printf '%d change(s) made.' "$CHANGES"
    ((START)) || printf ' Reboot (or: sudo systemctl start %s) to start the kiosk.' "$UNIT"
    printf '\n'
fi
