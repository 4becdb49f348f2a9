#!/usr/bin/env bash
# Remove the Wobble Trainer kiosk installed by systemd/install.sh.
#
#   sudo systemd/uninstall.sh [--dry-run] [--purge]
#
# Stops and disables the unit, removes it, the venv under /opt/wobble-trainer and the i2c-dev
# modules-load file, and gives tty1 back to getty if install.sh had taken it.
# Keeps the patients' data (/var/lib/wobble-trainer) and the user "wobble" unless --purge.
# Never touched: apt packages and the I2C lines in config.txt (other things may rely on them).
# Idempotent; --dry-run prints what would change.
#
# WOBBLE_INSTALL_ROOT (tests only): prefix for every file path, as in install.sh.
set -euo pipefail

readonly UNIT=wobble-trainer.service
readonly SERVICE_USER=wobble
readonly PREFIX=/opt/wobble-trainer
readonly STATE_DIR=/var/lib/wobble-trainer
readonly CACHE_DIR=/var/cache/wobble-trainer

ROOT=${WOBBLE_INSTALL_ROOT:-/}
DRY_RUN=0
PURGE=0
CHANGES=0

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

while (($#)); do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --purge) PURGE=1 ;;
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

p() { printf '%s%s' "${ROOT%/}" "$1"; }
ok() { printf 'ok:     %s\n' "$*"; }
note() { printf 'note:   %s\n' "$*"; }
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

if ((!DRY_RUN)) && [[ $ROOT == / ]] && ((EUID != 0)); then
    printf 'run as root (sudo %s), or use --dry-run\n' "$0" >&2
    exit 1
fi
((DRY_RUN)) && printf 'dry run: nothing will be changed\n'

if systemd_running && systemctl is-active --quiet "$UNIT" 2>/dev/null; then
    act "stop $UNIT" systemctl stop "$UNIT"
fi
if systemctl is-enabled --quiet "$UNIT" 2>/dev/null; then
    act "disable $UNIT" systemctl disable "$UNIT"
fi
unit_file=$(p /etc/systemd/system/$UNIT)
if [[ -e $unit_file ]]; then
    act "remove $unit_file" rm -f "$unit_file"
    if systemd_running; then
        act "reload systemd" systemctl daemon-reload
    fi
else
    ok "no $UNIT installed"
fi

# Give tty1 back to getty only if install.sh took it away.
if [[ -f $(p "$PREFIX")/getty-tty1-was-enabled ]] &&
    ! systemctl is-enabled --quiet getty@tty1.service 2>/dev/null; then
    act "re-enable the login prompt on tty1" systemctl enable getty@tty1.service
fi

polkit_rule=$(p /etc/polkit-1/rules.d/50-wobble-trainer.rules)
if [[ -e $polkit_rule ]]; then
    act "remove $polkit_rule" rm -f "$polkit_rule"
fi
modules_conf=$(p /etc/modules-load.d/wobble-trainer.conf)
if [[ -e $modules_conf ]]; then
    act "remove $modules_conf" rm -f "$modules_conf"
fi
if [[ -e $(p "$PREFIX") ]]; then
    act "remove $PREFIX (venv)" rm -rf "$(p "$PREFIX")"
else
    ok "no $PREFIX"
fi

if ((PURGE)); then
    for dir in "$STATE_DIR" "$CACHE_DIR"; do
        if [[ -e $(p "$dir") ]]; then
            act "delete $dir (data!)" rm -rf "$(p "$dir")"
        fi
    done
    if getent passwd "$SERVICE_USER" >/dev/null; then
        act "delete user $SERVICE_USER" userdel "$SERVICE_USER"
    fi
else
    [[ -e $(p "$STATE_DIR") ]] && note "kept data in $STATE_DIR (use --purge to delete it)"
    getent passwd "$SERVICE_USER" >/dev/null && note "kept user $SERVICE_USER (--purge deletes it)"
fi

if ((CHANGES == 0)); then
    printf 'nothing to change: Wobble Trainer is not installed\n'
elif ((DRY_RUN)); then
    printf '%d change(s) would be made\n' "$CHANGES"
else
    printf '%d change(s) made\n' "$CHANGES"
fi
