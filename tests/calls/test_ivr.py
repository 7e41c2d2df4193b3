"""IVR flows as data: validation, menus, type-ahead, timeouts, retries."""
import pytest

import time

from callbox.calls.ivr import DEFAULT_FLOW, SURVEY_FLOW, Ivr, validate_flow
from callbox.errors import ConfigError


class Call:
    call_id = "c1"

    def __init__(self):
        self.vars = {}


class Actions:
    def __init__(self):
        self.log = []

    def play(self, call, prompt, lang=None):
        self.log.append(("play", prompt) if lang in (None, "zh") else ("play", prompt, lang))

    def route(self, call, target):
        self.log.append(("route", target))

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


def run(clock, steps, flow=FLOW, localtime=time.localtime, setup=None):
    act = Actions()
    ivr = Ivr(clock, act, localtime=localtime)
    if setup:
        setup(ivr)
    call = Call()
    run.call = call
    ivr.start(call, validate_flow("t", flow), name="t")
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


def test_default_and_survey_flows_are_valid():
    assert validate_flow("survey", SURVEY_FLOW)


FULL = {"start": "w", "lang": "zh", "express": {"*9": "ticket"}, "nodes": {
    "w": {"type": "play", "prompt": "welcome", "next": "hours"},
    "hours": {"type": "hours", "open": [{"days": "mon-fri", "from": "08:00", "to": "18:00"}],
              "holidays": ["2026-10-01"], "next": "m", "closed": "closed"},
    "m": {"type": "menu", "prompt": "menu", "choices": {"1": "ticket", "9": "en"}, "timeout_s": 5, "retries": 1},
    "en": {"type": "lang", "lang": "en", "next": "m"},
    "ticket": {"type": "collect", "prompt": "enter_number", "var": "ticket", "min": 4, "max": 8,
               "timeout_s": 4, "retries": 1, "invalid_prompt": "invalid", "next": "score"},
    "score": {"type": "set", "var": "route", "value": "tickets", "next": "vm"},
    "vm": {"type": "transfer", "target": "voicemail:tickets"},
    "closed": {"type": "hangup", "prompt": "closed"}}}


def _at(y, mo, d, h, mi):
    t = time.localtime(time.mktime((y, mo, d, h, mi, 0, 0, 0, -1)))
    return lambda: t


def test_opening_hours_and_holidays(clock):
    open_ = run(clock, ["done"], FULL, _at(2026, 11, 23, 9, 30))          # a Monday morning
    assert open_[-1] == ("play", "menu")
    assert run(clock, ["done"], FULL, _at(2026, 11, 22, 9, 30))[-1] == ("hangup", "closed")   # Sunday
    assert run(clock, ["done"], FULL, _at(2026, 11, 23, 18, 0))[-1] == ("hangup", "closed")   # 18:00 is closed
    assert run(clock, ["done"], FULL, _at(2026, 10, 1, 10, 0))[-1] == ("hangup", "closed")    # a holiday


def test_collect_digits_with_terminator_language_switch_and_transfer(clock):
    log = run(clock, ["done", "9", "done", "1", "done", "1", "2", "3", "4", "5", "#"], FULL, _at(2026, 11, 23, 9, 0))
    assert ("play", "menu", "en") in log and ("play", "enter_number", "en") in log
    assert log[-1] == ("route", "voicemail:tickets")
    assert run.call.vars == {"ticket": "12345", "route": "tickets"} and run.call.lang == "en"


def test_collect_too_short_is_retried_and_a_pause_ends_the_number(clock):
    log = run(clock, ["done", "1", "done", "1", "2", "#", "done", "9", "8", "7", "6", "wait4.1"], FULL,
              _at(2026, 11, 23, 9, 0))
    assert ("play", "invalid") in log
    assert run.call.vars["ticket"] == "9876" and log[-1] == ("route", "voicemail:tickets")


def test_express_code_jumps_straight_to_its_node(clock):
    log = run(clock, ["*", "9"], FULL, _at(2026, 11, 23, 9, 0))          # during the welcome
    assert log[-1] == ("play", "enter_number")


def test_incident_announcement_hung_on_a_node_plays_first(clock):
    log = run(clock, ["done", "done", "1"], FULL, _at(2026, 11, 23, 9, 0),
              setup=lambda ivr: ivr.set_announcement("t", "m", "incident"))
    assert log[:3] == [("play", "welcome"), ("play", "incident"), ("play", "menu")]
    assert log[-1] == ("play", "enter_number")


@pytest.mark.parametrize("mutate,msg", [
    (lambda f: f["nodes"].update(lonely={"type": "hangup"}), "nodes.lonely: cannot be reached"),
    (lambda f: f["nodes"].update(a={"type": "lang", "lang": "en", "next": "b"},
                                 b={"type": "set", "var": "x", "value": 1, "next": "a"}) or
     f["express"].update({"*8": "a"}), "loops back to itself"),
    (lambda f: f["nodes"]["hours"]["open"][0].update({"from": "19:00"}), "from 19:00 is not before to 18:00"),
    (lambda f: f["nodes"]["hours"]["open"][0].update({"days": "mon-fry"}), "days 'mon-fry'"),
    (lambda f: f["nodes"]["hours"].update(holidays=["1 Oct"]), "not a date"),
    (lambda f: f["nodes"]["ticket"].update(min=9), "1 <= min <= max"),
    (lambda f: f["nodes"]["vm"].update(target="fax:1"), "target: 'fax:1'"),
    (lambda f: f["express"].update({"9": "m"}), "code '9' must be 2-8"),
    (lambda f: f["nodes"]["w"].update(prompt="../../etc/passwd"), "must be a prompt name"),
])
def test_bad_flows_are_refused_with_the_place_named(mutate, msg):
    import copy
    f = copy.deepcopy(FULL)
    mutate(f)
    with pytest.raises(ConfigError, match=msg):
        validate_flow("t", f)


def test_missing_prompts_are_named_when_a_prompt_check_is_given():
    with pytest.raises(ConfigError, match="nodes.w.prompt: prompt 'welcome' has not been recorded"):
        validate_flow("t", FULL, prompt_exists=lambda p: p != "welcome")
