"""The board: LEDs and LIU resets on GPIO lines through python-periphery (a stand-in class
records what would reach the lines), the watchdog device (a file here), and the health rule
that feeds it only while the media tick advances and every daemon runs."""
import json
import os

import pytest

from callbox.hw.board import Board, BoardError, Health, SimBoard, load_pinmap

REPO = os.path.join(os.path.dirname(__file__), "..", "..")


class FakeGPIO:
    lines = {}

    def __init__(self, chip, line, direction):
        assert chip == "/dev/gpiochip0" and direction in ("low", "high")
        self.line = line
        FakeGPIO.lines[line] = direction == "high"

    def write(self, value):
        FakeGPIO.lines[self.line] = bool(value)

    def close(self):
        FakeGPIO.lines[self.line] = "closed"


def test_the_rpi4_pin_map_loads_and_drives_leds_resets_and_the_watchdog(tmp_path):
    pm = load_pinmap(os.path.join(REPO, "board", "rpi4", "pinmap.json"))
    wd = tmp_path / "watchdog"
    wd.write_bytes(b"")
    pm["watchdog"] = str(wd)
    FakeGPIO.lines = {}
    b = Board(pm, gpio_class=FakeGPIO)
    assert FakeGPIO.lines[22] is False and FakeGPIO.lines[5] is True     # LED off; LIU out of reset (active low)
    b.led("span0_alarm", True)
    b.led("nonexistent", True)                                          # a board without it: ignored
    assert FakeGPIO.lines[22] is True and b.leds()["span0_alarm"] is True
    b.feed()
    b.feed()
    b.close(disarm=True)
    assert wd.read_bytes() == b"kkV" and FakeGPIO.lines[22] == "closed"


def test_the_emulated_board_has_a_watchdog_and_no_gpio(tmp_path):
    pm = load_pinmap(os.path.join(REPO, "board", "qemu-x86_64", "pinmap.json"))
    pm["watchdog"] = str(tmp_path / "wd")
    (tmp_path / "wd").write_bytes(b"")
    b = Board(pm, gpio_class=None)
    b.led("status", True)
    b.feed()
    b.close(disarm=False)
    assert (tmp_path / "wd").read_bytes() == b"k" and b.leds() == {}


def test_bad_pin_maps_are_refused_with_the_field(tmp_path):
    p = tmp_path / "pm.json"
    for text, why in (("{", "not JSON"), ("[]", "not a JSON object"), ('{"chip": 1, "leds": {"a": 1}}', "chip must be"),
                      ('{"chip": "/dev/gpiochip0", "leds": {"a": -1}}', "leds must map"),
                      ('{"chip": "/dev/gpiochip0", "watchdog": 5}', "watchdog must be")):
        p.write_text(text)
        with pytest.raises(BoardError, match=why):
            load_pinmap(str(p))
    with pytest.raises(BoardError, match="No such file"):
        load_pinmap(str(tmp_path / "missing.json"))


def test_the_watchdog_is_fed_only_while_the_tick_advances_and_every_daemon_runs(tmp_path):
    board = SimBoard(str(tmp_path))
    h = Health(board)
    spans = [{"span": 0, "up": True, "alarms": {"los": False}}, {"span": 1, "up": False, "alarms": {"los": True}}]
    assert h.check(100, True, spans) and board.feeds == 1
    assert h.check(150, True, spans) and board.feeds == 2
    assert not h.check(150, True, spans) and "stuck at 150" in h.why and board.feeds == 2
    assert not h.check(None, True, spans) and "does not answer" in h.why
    assert not h.check(200, False, spans) and "not running" in h.why and board.feeds == 2
    assert h.check(250, True, spans) and board.feeds == 3
    state = json.loads((tmp_path / "sim" / "board.json").read_text())
    assert state["leds"] == {"power": True, "status": True, "span0_alarm": False, "span1_alarm": True}
    assert state["watchdog"]["feeds"] == 3
