"""The maker's wiring table (hardware/README.md) must match the software's default pins."""

import re
from pathlib import Path

from wobble_trainer.feedback.gpio import HEADER_PIN, GpioPins

GUIDE = Path(__file__).resolve().parents[1] / "hardware" / "README.md"

ROWS = {
    "zone_red": "RGB LED | red",
    "zone_green": "RGB LED | green",
    "zone_blue": "RGB LED | blue",
    "front": "direction LED front",
    "back": "direction LED back",
    "left": "direction LED left",
    "right": "direction LED right",
    "buzzer": "buzzer driver | base",
    "button": "button | one side",
}


def test_wiring_table_matches_the_default_pins():
    text = GUIDE.read_text(encoding="utf-8")
    defaults = GpioPins()
    for field, label in ROWS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {label}"))
        pin, gpio = re.search(r"\*\*(\d+)\*\* \| GPIO (\d+)", row).groups()
        assert int(gpio) == getattr(defaults, field), f"{field}: guide says GPIO {gpio}"
        assert HEADER_PIN[int(gpio)] == int(pin), f"{field}: GPIO {gpio} is not header pin {pin}"


def test_config_txt_lines_drive_the_outputs_low_and_pull_the_button_up():
    text = GUIDE.read_text(encoding="utf-8")
    d = GpioPins()
    outputs = sorted(
        g for n, g in d.fitted().items() if n != "button"
    )
    line = next(s for s in text.splitlines() if s.startswith("gpio=") and "op,dl" in s)
    assert sorted(int(v) for v in line[5:].split("=")[0].split(",")) == outputs
    assert f"gpio={d.button}=ip,pu" in text
