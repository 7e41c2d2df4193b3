"""IVR flows as data: validation, menus, type-ahead, timeouts, retries."""
import pytest

from callbox.calls.ivr import DEFAULT_FLOW, Ivr, validate_flow
from callbox.errors import ConfigError


class Call:
    call_id = "c1"


class Actions:
    def __init__(self):
        self.log = []

    def play(self, call, prompt):
        self.log.append(("play", prompt))

    def enqueue(self, call, queue):
        self.log.append(("queue", queue))

    def hangup(self, call, prompt):
        self.log.append(("hangup", prompt))

    def event(self, call, name, detail):
        pass


FLOW = {"start": "w", "nodes": {
    "w": {"type": "play", "prompt": "welcome", "next": "m"},
    "m": {"type": "menu", "prompt": "menu", "choices": {"1": "sales", "9": "bye"}, "timeout_s": 5, "retries": 1},
    "sales": {"type": "queue", "queue": "sales"},
    "bye": {"type": "hangup", "prompt": "goodbye"}}}


def run(clock, steps):
    act = Actions()
    ivr = Ivr(clock, act)
    call = Call()
    ivr.start(call, validate_flow("t", FLOW))
    for s in steps:
        if s == "done":
            ivr.on_play_done(call)
        elif s.startswith("wait"):
            clock.advance(float(s[4:]))
        else:
            ivr.on_digit(call, s)
    return act.log


def test_menu_choice_after_prompts(clock):
    assert run(clock, ["done", "done", "1"]) == [("play", "welcome"), ("play", "menu"), ("queue", "sales")]


def test_type_ahead_during_welcome_skips_menu_prompt(clock):
    assert run(clock, ["1", "done"]) == [("play", "welcome"), ("queue", "sales")]


def test_timeout_retries_then_hangs_up_without_default(clock):
    log = run(clock, ["done", "done", "wait5.1", "done", "wait5.1"])
    assert log == [("play", "welcome"), ("play", "menu"), ("play", "menu"), ("hangup", "goodbye")]


def test_invalid_digit_replays_and_valid_one_then_works(clock):
    log = run(clock, ["done", "done", "5", "done", "9"])
    assert log[-1] == ("hangup", "goodbye") and log[2] == ("play", "menu")


@pytest.mark.parametrize("mutate,msg", [
    (lambda f: f.update(start="nowhere"), "ivr\\[t\\].start"),
    (lambda f: f["nodes"]["m"]["choices"].update({"12": "sales"}), "not a single DTMF digit"),
    (lambda f: f["nodes"]["m"]["choices"].update({"2": "ghost"}), "nodes.m.choices.2: 'ghost' is not a node"),
    (lambda f: f["nodes"]["w"].pop("next"), "nodes.w: missing next"),
    (lambda f: f["nodes"]["m"].update(timeout_s=0), "timeout_s"),
    (lambda f: f["nodes"]["sales"].update(type="fax"), "type: 'fax'"),
])
def test_validation_names_node_and_field(mutate, msg):
    import copy
    f = copy.deepcopy(FLOW)
    mutate(f)
    with pytest.raises(ConfigError, match=msg):
        validate_flow("t", f)


def test_default_flow_is_valid():
    assert validate_flow("default", DEFAULT_FLOW)
