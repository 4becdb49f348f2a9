import pytest

from wobble_trainer.config import load_config, parse_size


@pytest.fixture(autouse=True)
def no_system_config(monkeypatch, tmp_path):
    monkeypatch.setattr("wobble_trainer.config.SYSTEM_CONFIG", tmp_path / "none.toml")
    monkeypatch.setenv("WOBBLE_STATE_DIR", str(tmp_path / "state"))


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_file_gives_the_defaults():
    result = load_config()
    assert result.message == "" and result.config.path is None
    assert result.config.gpio_pins.button == 16


def test_values_are_read(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        """
[imu]
bus = 3
rate_hz = 200
[display]
size = "1280x720"
fullscreen = true
[gpio]
front = 20
buzzer = -1
[kiosk]
enabled = true
inactivity_s = 90
""",
    )
    monkeypatch.setenv("WOBBLE_CONFIG", str(path))
    result = load_config()
    c = result.config
    assert result.message == "" and c.path == path
    assert (c.imu_bus, c.imu_rate_hz, c.display_size, c.fullscreen) == (3, 200.0, (1280, 720), True)
    assert c.gpio_pins.front == 20 and c.gpio_pins.buzzer is None
    from wobble_trainer.app.kiosk import kiosk_settings

    kiosk = kiosk_settings(c)
    assert kiosk.enabled and kiosk.inactivity_s == 90


@pytest.mark.parametrize(
    "text, words",
    [
        ("[imu\nbus=1", "not valid TOML"),
        ("[imu]\nspeed = 3", "unknown key(s) in [imu]: speed"),
        ("[screen]\nsize='1x1'", "unknown section"),
        ("[display]\nsize = 'big'", "WIDTHxHEIGHT"),
        ("[gpio]\nfront = 2", "GPIO2"),
        ("[gpio]\nleds = 3", "unknown GPIO setting"),
        ("[display]\nfullscreen = 'yes'", "true or false"),
        ("[kiosk]\ninactivity_s = -5", "[kiosk] inactivity_s"),
        ("[kiosk]\nenabled = 1", "[kiosk] enabled"),
        ("a = " + "[" * 100_000 + "]" * 100_000, "nested far too deeply"),
        ("a = " + "{x=" * 5000 + "1" + "}" * 5000, "nested far too deeply"),
    ],
)
def test_bad_files_fall_back_to_defaults_with_a_message(tmp_path, text, words):
    result = load_config(write(tmp_path, text))
    assert words in result.message and "config.toml" in result.message
    assert result.config.display_size == (800, 480)


def test_parse_size():
    assert parse_size("720x1280") == (720, 1280)
    with pytest.raises(ValueError):
        parse_size("720")


def test_sizes_below_320x240_are_refused_with_the_minimum():
    assert parse_size("320x240") == (320, 240)
    for text in ("100x100", "319x480", "800x239"):
        with pytest.raises(ValueError, match="at least 320x240"):
            parse_size(text)
