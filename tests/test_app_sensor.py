import pygame
from conftest import SCREEN_SIZES, drive

from wobble_trainer.app.layout import Layout
from wobble_trainer.app.scenes.sensor import RETRY_S, SensorSearchScene
from wobble_trainer.hardware.detect import ImuNotFoundError, ProbeReport, explain_nothing_found

MESSAGE = explain_nothing_found(ProbeReport(buses=[1]))


class Notifier:
    def __init__(self):
        self.sent = []

    def ready(self, status=None):
        self.sent.append(("ready", status))

    def watchdog(self):
        self.sent.append(("watchdog", None))


def test_it_keeps_looking_and_hands_over_when_the_imu_answers(app_context):
    looks = []

    def detect():
        looks.append(1)
        if len(looks) < 3:
            raise ImuNotFoundError(MESSAGE)
        return "the IMU's source"

    notifier = Notifier()
    scene = SensorSearchScene(app_context, detect, MESSAGE, notifier=notifier)
    app_context.push(scene)
    drive(app_context, 2 * RETRY_S + 0.5, lambda t: None)
    assert len(looks) == 2 and scene.found is None and not app_context.quit_requested
    drive(app_context, RETRY_S, lambda t: None)
    assert scene.found == "the IMU's source" and app_context.quit_requested
    # systemd hears the search is alive (no start timeout, no watchdog restart loop)
    assert ("watchdog", None) in notifier.sent
    assert any("Sensor not found" in (status or "") for _, status in notifier.sent)


def test_it_shows_the_wiring_checks_and_not_the_simulator(app_context):
    scene = SensorSearchScene(app_context, lambda: None, MESSAGE)
    pygame.init()
    for size in SCREEN_SIZES:
        layout = Layout(*size)
        scene.render(pygame.Surface(size), layout)
        shown = " ".join(d.text for d in layout.drawn)
        assert "Sensor not found" in shown and "Check the wiring" in shown, size
        assert "--sim" not in shown and "Looking again in" in shown
        assert all(pygame.Rect(0, 0, *size).contains(d.rect) for d in layout.drawn)
