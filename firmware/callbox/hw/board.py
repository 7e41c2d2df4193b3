"""The board around the firmware: LEDs, line-interface resets and the hardware watchdog.

On the box the pin map (board/<board>/pinmap.json, installed as /etc/callbox/pinmap.json)
names GPIO lines of a character device (``chip``, e.g. /dev/gpiochip0), driven through
python-periphery, and the watchdog device (/dev/watchdog: every write feeds it, a "V" before
closing disarms it). In simulation (``SimBoard``) the same calls write the board's state to
``<run>/sim/board.json`` so tests and a curious developer can watch the LEDs and the feeding.

Only the supervisor drives the board: it feeds the watchdog while the media tick advances and
every daemon runs, and sets each span's alarm LED from the span's state.
"""
import json
import logging
import os
import time

log = logging.getLogger("callbox.board")


class BoardError(Exception):
    pass


def load_pinmap(path):
    """The pin map as a dict, checked: chip, leds {name: line}, liu_reset {name: line},
    liu_reset_active_low, watchdog.

    Raises:
        BoardError: unreadable, not JSON, or a field of the wrong kind (named).
    """
    try:
        with open(path, encoding="utf-8") as f:
            pm = json.load(f)
    except OSError as e:
        raise BoardError("pin map %s: %s" % (path, e.strerror)) from None
    except ValueError as e:
        raise BoardError("pin map %s: not JSON (%s)" % (path, e)) from None
    if not isinstance(pm, dict):
        raise BoardError("pin map %s: not a JSON object" % path)
    if (pm.get("leds") or pm.get("liu_reset")) and not isinstance(pm.get("chip"), str):
        raise BoardError("pin map %s: chip must be a GPIO character device such as /dev/gpiochip0" % path)
    for group in ("leds", "liu_reset"):
        lines = pm.get(group, {})
        if not isinstance(lines, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1024
                                                  for v in lines.values()):
            raise BoardError("pin map %s: %s must map names to GPIO line numbers 0..1023" % (path, group))
    if "watchdog" in pm and not isinstance(pm["watchdog"], str):
        raise BoardError("pin map %s: watchdog must be a device path such as /dev/watchdog" % path)
    return pm


class Board:
    """The real board: GPIO lines through python-periphery, the Linux watchdog device.

    Args:
        pinmap (dict): from load_pinmap().
        gpio_class: periphery.GPIO (tests pass a stand-in).
    """

    def __init__(self, pinmap, gpio_class=None):
        if gpio_class is None:
            from periphery import GPIO as gpio_class
        self.pinmap = pinmap
        self._gpio = {}
        self._led_state = {}
        chip = pinmap.get("chip")
        for name, line in sorted(pinmap.get("leds", {}).items()):
            self._gpio[name] = gpio_class(chip, line, "low")          # an output, off
            self._led_state[name] = False
        active_low = bool(pinmap.get("liu_reset_active_low", False))
        for name, line in sorted(pinmap.get("liu_reset", {}).items()):
            # out of reset: the inactive level
            self._gpio[name] = gpio_class(chip, line, "high" if active_low else "low")
        self._wd = None
        wd = pinmap.get("watchdog")
        if wd:
            try:
                self._wd = os.open(wd, os.O_WRONLY)
            except OSError as e:
                log.error("watchdog %s: %s; the box runs without it", wd, e.strerror)
        self.feeds = 0

    def led(self, name, on):
        """Set an LED from the pin map; an LED the board does not have is ignored."""
        g = self._gpio.get(name)
        if g is None or name not in self._led_state or self._led_state[name] == bool(on):
            return
        g.write(bool(on))
        self._led_state[name] = bool(on)

    def leds(self):
        return dict(self._led_state)

    def feed(self):
        if self._wd is not None:
            os.write(self._wd, b"k")
            self.feeds += 1

    def close(self, disarm=True):
        """Release the lines; with disarm, the watchdog's magic close (a clean stop)."""
        if self._wd is not None:
            try:
                if disarm:
                    os.write(self._wd, b"V")
                os.close(self._wd)
            except OSError:
                pass
            self._wd = None
        for g in self._gpio.values():
            try:
                g.close()
            except Exception:
                pass


class SimBoard:
    """The simulated board: LED states and watchdog feeds in <run>/sim/board.json."""

    def __init__(self, run_dir, leds=("power", "status")):
        self.path = os.path.join(run_dir, "sim", "board.json")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._led_state = {n: False for n in leds}
        self.feeds = 0
        self.fed_at = None
        self._write()

    def led(self, name, on):
        if self._led_state.get(name) != bool(on):
            self._led_state[name] = bool(on)
            self._write()

    def leds(self):
        return dict(self._led_state)

    def feed(self):
        self.feeds += 1
        self.fed_at = time.time()
        self._write()

    def close(self, disarm=True):
        self._write(disarmed=disarm)

    def _write(self, disarmed=False):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"leds": self._led_state, "watchdog": {"feeds": self.feeds, "fed_at": self.fed_at,
                                                              "disarmed": disarmed}}, f)
        os.replace(tmp, self.path)


class Health:
    """Decides, once a second, whether the watchdog may be fed and what the LEDs show.

    Args:
        board: Board or SimBoard.
        nspans (int): spans with an alarm LED (span<N>_alarm).
    """

    def __init__(self, board):
        self.board = board
        self.last_tick = None
        self.healthy = False
        self.why = "starting"

    def check(self, tick, daemons_running, spans):
        """tick: the media engine's tick count (None: media did not answer); daemons_running:
        all children up; spans: span.status list. Feeds the watchdog only when healthy."""
        problems = []
        if tick is None:
            problems.append("media does not answer")
        elif self.last_tick is not None and tick <= self.last_tick:
            problems.append("the media tick is stuck at %d" % tick)
        if not daemons_running:
            problems.append("a daemon is not running")
        if tick is not None:
            self.last_tick = tick
        healthy = not problems
        if healthy != self.healthy:
            (log.info if healthy else log.error)("health: %s", "good, feeding the watchdog" if healthy
                                                 else "; ".join(problems) + ": the watchdog is no longer fed")
        self.healthy, self.why = healthy, "; ".join(problems) or "ok"
        if healthy:
            self.board.feed()
        self.board.led("power", True)
        self.board.led("status", healthy)
        for s in spans or ():
            bad = not s.get("up") or any((s.get("alarms") or {}).values())
            self.board.led("span%d_alarm" % s["span"], bad)
        return healthy
