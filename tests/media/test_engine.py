"""The media engine, ticked by hand: two engines back to back over a simulated span.

No timers and no sleeps: each test calls tick() on the far end and the box in
turn, as the 20 ms clock would.
"""
import array
import math

import pytest

from callbox import dsp, hw
from callbox.media.engine import Engine


def goertzel(samples, freq):
    k = 2 * math.cos(2 * math.pi * freq / 8000)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / len(samples) ** 2


class Pair:
    def __init__(self, tmp_path, nspans=1, offset=37, prompts=None):
        d = str(tmp_path)
        self.far_events, self.box_events = [], []
        self.far = Engine([(i, {"name": "far%d" % i}, hw.open_line("sim://e%d/1?offset=%d" % (i, offset + i), sim_dir=d).open())
                           for i in range(nspans)], [], prompts or {}, lambda t, x: self.far_events.append((t, x)), "far")
        self.box = Engine([(i, {"name": "span%d" % i}, hw.open_line("sim://e%d/0" % i, sim_dir=d).open())
                           for i in range(nspans)], [], prompts or {}, lambda t, x: self.box_events.append((t, x)), "box")

    def run(self, ticks):
        for _ in range(ticks):
            self.far.tick()
            self.box.tick()

    def close(self):
        self.far.close()
        self.box.close()


@pytest.fixture
def pair(tmp_path):
    p = Pair(tmp_path, nspans=2)
    yield p
    p.close()


def test_spans_come_up_from_raw_bits_out_of_frame(pair):
    pair.run(20)
    ups = [x for t, x in pair.box_events if t == "span.state"]
    assert sorted(u["span"] for u in ups if u["up"]) == [0, 1]
    st = pair.box.status()
    assert all(s["up"] and not any(s["alarms"].values()) for s in st)


def test_los_and_recovery_are_reported_as_on_off_pairs(pair):
    pair.run(20)
    pair.box_events.clear()
    pair.far.spans[1].line.impair(los=True)
    pair.run(10)
    pair.far.spans[1].line.impair(los=False)
    pair.run(20)
    alarms = [(x["span"], x["alarm"], x["state"]) for t, x in pair.box_events if t == "span.alarm"]
    assert (1, "los", "ON") in alarms and (1, "los", "OFF") in alarms
    assert all(a[0] == 1 for a in alarms), "only the faulty span may alarm"
    assert pair.box.status()[1]["up"]


def test_dtmf_sent_as_tones_is_detected_on_the_right_channel_only(pair):
    pair.run(20)
    pair.box.dtmf_enable("s1.5")
    pair.box.dtmf_enable("s0.5")
    pair.far.tone("s1.5", digits="159#")
    pair.run(60)
    digits = [(x["ep"], x["digit"]) for t, x in pair.box_events if t == "chan.dtmf"]
    assert digits == [("s1.5", "1"), ("s1.5", "5"), ("s1.5", "9"), ("s1.5", "#")]


def test_dchannel_frames_cross_through_hdlc(pair):
    pair.run(10)
    pair.far.dchan_send(0, b"\x02\x01\x7f")
    pair.far.dchan_send(0, bytes(range(200)))
    pair.run(10)
    frames = [x["frame"] for t, x in pair.box_events if t == "span.dchan.rx" and x["span"] == 0]
    assert frames == [b"\x02\x01\x7f", bytes(range(200))]


def test_prompt_plays_and_cross_connect_carries_audio(tmp_path):
    tone = array.array("h", (int(8000 * math.sin(2 * math.pi * 800 * i / 8000)) for i in range(1600)))
    p = Pair(tmp_path, prompts={"beep": bytes(dsp.linear_to_alaw(tone))})
    try:
        p.run(20)
        p.box.play("s0.7", "beep")
        captured = array.array("h")
        for _ in range(20):
            p.far.tick()
            p.box.tick()
            captured.extend(dsp.alaw_to_linear(p.far.spans[0].chans[7 * 160:8 * 160]))
        assert goertzel(captured, 800) > 100 * goertzel(captured, 1200)
        assert ("chan.play.done", {"ep": "s0.7", "prompt": "beep"}) in p.box_events
        # loop a channel back through the switch: far sends 1000 Hz on ts 3, box connects 3<->9
        p.box.connect("s0.3", "s0.9")
        p.far.play_tone("s0.3", 1000, 0, -10)
        p.run(10)
        heard = array.array("h")
        for _ in range(5):
            p.far.tick()
            p.box.tick()
            heard.extend(dsp.alaw_to_linear(p.far.spans[0].chans[9 * 160:10 * 160]))
        assert goertzel(heard, 1000) > 1e5
    finally:
        p.close()


def test_recording_tap_emits_both_directions_every_tick(pair):
    pair.run(20)
    pair.box.record_start("c1", "s0.1", "s0.2")
    pair.run(5)
    pair.box.record_stop("c1")
    recs = [x for t, x in pair.box_events if t == "media.rec"]
    assert len(recs) == 5 and all(len(b[1]) == 160 and len(b[2]) == 160 for r in recs for b in r["b"])
    ticks = [r["tick"] for r in recs]
    assert ticks == list(range(ticks[0], ticks[0] + 5))


def test_bad_endpoints_are_refused_with_the_accepted_forms(pair):
    for ep, msg in [("s0.16", "not a bearer"), ("s0.0", "not a bearer"), ("s9.1", "no span 9"),
                    ("seat4", "no such seat"), ("x", "s<span>.<timeslot>")]:
        with pytest.raises(ValueError, match=msg):
            pair.box.check_ep(ep)


def test_bert_through_far_end_line_loopback_counts_injected_errors(tmp_path):
    p = Pair(tmp_path, nspans=1)
    try:
        p.run(10)
        p.far.set_loopback(0, "line")
        p.box.bert(0, "start")
        p.run(50)
        st = p.box.bert_status(0)
        assert st["running"] and st["synced"] and st["errors"] == 0 and st["bits"] > 40 * 160 * 30 * 8
        for _ in range(5):
            p.box.bert(0, "insert")
            p.run(2)
        p.run(10)                                     # the round trip holds a few blocks in flight
        assert p.box.bert_status(0)["errors"] == 5
        p.box.bert(0, "reset")
        p.far.spans[0].line.impair(ber=1e-4)          # errors on the far end's way back
        p.run(100)
        st = p.box.bert_status(0)
        assert st["synced"] and 2e-5 < st["ber"] < 5e-4, st
        assert ("span.loopback", {"span": 0, "mode": "line"}) in p.far_events
    finally:
        p.close()


def test_local_loopback_needs_no_far_end_and_payload_loopback_reframes(tmp_path):
    p = Pair(tmp_path, nspans=1)
    try:
        p.far.spans[0].line.impair(los=True)         # the far end sends nothing useful
        p.box.set_loopback(0, "local")
        p.box.bert(0, "start", order=11)
        for _ in range(40):
            p.box.tick()
        st = p.box.bert_status(0)
        assert st["synced"] and st["errors"] == 0 and st["pattern"] == "2^11-1"
        p.box.set_loopback(0, "off")
        p.far.spans[0].line.impair(los=False)
        p.far.set_loopback(0, "payload")
        p.run(60)                                     # the path changed: let the checker settle
        p.box.bert(0, "reset")
        p.run(40)
        st = p.box.bert_status(0)
        assert st["synced"] and st["errors"] == 0 and p.box.status()[0]["up"]
        with pytest.raises(ValueError, match="off, local, line, payload"):
            p.box.set_loopback(0, "remote")
    finally:
        p.close()


def test_performance_registers_see_a_loss_of_signal(tmp_path):
    p = Pair(tmp_path, nspans=1)
    try:
        p.run(100)                                   # start-up (the first second saw LOF), then clean
        base = p.box.spans[0].perf.snapshot()["current"]
        p.run(100)
        assert p.box.spans[0].perf.snapshot()["current"] == base, "clean seconds count nothing"
        p.far.spans[0].line.impair(los=True)
        p.run(150)                                   # 3 seconds of LOS
        p.far.spans[0].line.impair(los=False)
        p.run(150)
        cur = p.box.spans[0].perf.snapshot()["current"]
        assert 3 <= cur["ses"] - base["ses"] <= 5 and cur["es"] - base["es"] == cur["ses"] - base["ses"]
        assert cur["fls"] - base["fls"] >= 3 and cur["uas"] == 0
    finally:
        p.close()


def test_prompt_lists_play_back_to_back_in_the_calls_language(tmp_path):
    def tone(f, n):
        return bytes(dsp.linear_to_alaw(array.array("h", (int(8000 * math.sin(2 * math.pi * f * i / 8000))
                                                          for i in range(n)))))
    p = Pair(tmp_path, prompts={"zh/pos": tone(500, 800), "en/pos": tone(1500, 800), "num_3": tone(700, 800)})
    try:
        p.run(20)
        p.box.play("s0.7", ["pos", "num_3"], lang="en")
        captured = array.array("h")
        for _ in range(14):
            p.far.tick()
            p.box.tick()
            captured.extend(dsp.alaw_to_linear(p.far.spans[0].chans[7 * 160:8 * 160]))
        # the far end hears 1500 Hz (English) then 700 Hz, in that order, and no 500 Hz
        first, second = captured[:len(captured) // 2], captured[len(captured) // 2:]
        assert goertzel(first, 1500) > 20 * goertzel(first, 700)
        assert goertzel(second, 700) > 20 * goertzel(second, 1500)
        assert goertzel(captured, 500) < 0.05 * goertzel(captured, 1500)
        assert ("chan.play.done", {"ep": "s0.7", "prompt": ["pos", "num_3"]}) in p.box_events
        p.box.play("s0.7", ["pos", "missing"], lang="en")
        assert ("chan.play.done", {"ep": "s0.7", "prompt": ["pos", "missing"], "error": "no such prompt"}) \
            in p.box_events
    finally:
        p.close()


def test_listen_whisper_and_barge_mix_the_audio(tmp_path):
    """Caller on s0.3 sends 600 Hz, agent on s0.5 sends 1100 Hz, the supervisor on s0.9
    sends 1700 Hz (all from the far end): who hears what in each mode."""
    p = Pair(tmp_path)
    try:
        p.run(20)
        p.far.play_tone("s0.3", 600, 0, -12)
        p.far.play_tone("s0.5", 1100, 0, -12)
        p.far.play_tone("s0.9", 1700, 0, -12)
        p.box.connect("s0.3", "s0.5")

        def heard(mode):
            if mode:
                p.box.monitor("s0.9", "s0.3", "s0.5", mode)
            p.run(6)
            got = {ts: array.array("h") for ts in (3, 5, 9)}
            for _ in range(6):
                p.far.tick()
                p.box.tick()
                for ts in got:
                    got[ts].extend(dsp.alaw_to_linear(p.far.spans[0].chans[ts * 160:(ts + 1) * 160]))
            who = {}
            for ts, x in got.items():
                e = {f: goertzel(x, f) for f in (600, 1100, 1700)}
                top = max(e.values())
                rms = (sum(v * v for v in x) / len(x)) ** 0.5
                who[ts] = {f for f, v in e.items() if v > 0.1 * top} if rms > 100 else set()
            return who
        assert heard(None) == {3: {1100}, 5: {600}, 9: set()}
        assert heard("listen") == {3: {1100}, 5: {600}, 9: {600, 1100}}
        assert heard("whisper") == {3: {1100}, 5: {600, 1700}, 9: {600, 1100}}
        assert heard("barge") == {3: {1100, 1700}, 5: {600, 1700}, 9: {600, 1100}}
        assert heard("off") == {3: {1100}, 5: {600}, 9: set()}
        p.box.monitor("s0.9", "s0.3", "s0.5", "barge")
        p.box.disconnect("s0.3")                  # the caller hangs up: no conference is left
        assert all(r[0] != "mix" for r in p.box.routes.values()) and p.box.monitors == {}
    finally:
        p.close()


def _t1_pair(tmp_path, framing="esf"):
    d = str(tmp_path)
    far_ev, box_ev = [], []
    cfg = {"kind": "T1", "framing": framing, "name": "t1"}
    far = Engine([(0, dict(cfg), hw.open_line("sim://t1p/1?offset=77", sim_dir=d, kind="T1").open())], [], {},
                 lambda t, x: far_ev.append((t, x)), "far")
    box = Engine([(0, dict(cfg), hw.open_line("sim://t1p/0", sim_dir=d, kind="T1").open())], [], {},
                 lambda t, x: box_ev.append((t, x)), "box")

    def run(n):
        for _ in range(n):
            far.tick()
            box.tick()
    return far, box, far_ev, box_ev, run


@pytest.mark.parametrize("framing", ["esf", "sf"])
def test_t1_span_frames_carries_d_channel_dtmf_and_audio(tmp_path, framing):
    far, box, far_ev, box_ev, run = _t1_pair(tmp_path, framing)
    try:
        run(30)
        st = box.status()[0]
        assert st["kind"] == "T1" and st["up"] and not any(st["alarms"].values()), st
        # the D-channel is channel 24
        far.dchan_send(0, bytes(range(50)))
        run(10)
        assert [x["frame"] for t, x in box_ev if t == "span.dchan.rx"] == [bytes(range(50))]
        # DTMF in mu-law on channel 23 is detected, A-law inside the box
        box.dtmf_enable("s0.23")
        far.tone("s0.23", digits="47*")
        run(50)
        assert [(x["ep"], x["digit"]) for t, x in box_ev if t == "chan.dtmf"] == [("s0.23", "4"), ("s0.23", "7"),
                                                                                ("s0.23", "*")]
        # endpoints: 1..23 are bearers, 24 (D) and 25..31 are not
        assert box.check_ep("s0.1") == "s0.1"
        for bad in ("s0.24", "s0.25", "s0.0"):
            with pytest.raises(ValueError, match="1-23"):
                box.check_ep(bad)
        # a 1 kHz prompt played by the box reaches the far end intact through mu-law
        tone = array.array("h", (int(8000 * math.sin(2 * math.pi * 1000 * i / 8000)) for i in range(1600)))
        box.prompts = type(box.prompts)({"beep": bytes(dsp.linear_to_alaw(tone))})
        box.play("s0.2", "beep")
        got = array.array("h")
        for _ in range(10):
            far.tick()
            box.tick()
            got.extend(dsp.alaw_to_linear(far.spans[0].chans[2 * 160:3 * 160]))
        assert goertzel(got, 1000) > 100 * goertzel(got, 1500) and goertzel(got, 1000) > 1e5
    finally:
        far.close()
        box.close()


def test_t1_loss_of_signal_and_yellow_alarm_are_reported(tmp_path):
    far, box, far_ev, box_ev, run = _t1_pair(tmp_path)
    try:
        run(30)
        box_ev.clear()
        far.spans[0].line.impair(los=True)
        run(10)
        far.spans[0].line.impair(los=False)
        run(30)
        alarms = [(x["alarm"], x["state"]) for t, x in box_ev if t == "span.alarm"]
        assert ("los", "ON") in alarms and ("los", "OFF") in alarms and box.status()[0]["up"]
    finally:
        far.close()
        box.close()


def test_build_engine_opens_t1_spans_with_the_t1_block_size(tmp_path):
    from callbox.config.store import Store
    from callbox.daemons.media import build_engine
    st = Store(str(tmp_path / "data"))
    st.put_span({"id": 1, "name": "t1", "kind": "T1", "framing": "esf", "line_code": "b8zs", "signalling": "pri",
                 "side": "user", "backend": "sim://pY/0"})
    eng = build_engine(st, str(tmp_path / "data"), str(tmp_path / "sim"), lambda t, d: None)
    try:
        assert [(sp.sid, sp.kind, sp.line.block_bytes) for sp in eng.spans] == [(1, "T1", 3860)]
    finally:
        eng.close()
        st.close()


def test_rai_goes_back_while_our_receiver_has_a_defect_and_on_request(pair):
    pair.run(20)
    assert not pair.far.status()[1]["alarms"]["rai"] and not pair.box.status()[1]["rai_sent"]
    pair.far.spans[1].line.impair(los=True)          # the box's receiver on span 1 loses the signal
    pair.run(10)
    assert pair.box.status()[1]["rai_sent"] and pair.far.status()[1]["alarms"]["rai"]
    assert not pair.far.status()[0]["alarms"]["rai"], "only the faulty span's far end sees RAI"
    pair.far.spans[1].line.impair(los=False)
    pair.run(20)
    assert not pair.box.status()[1]["rai_sent"] and not pair.far.status()[1]["alarms"]["rai"]
    pair.box.force_rai(0, True)                      # a tech forces it (console: impair span 0 rai on)
    pair.run(10)
    assert pair.far.status()[0]["alarms"]["rai"]
    pair.box.force_rai(0, False)
    pair.run(10)
    assert not pair.far.status()[0]["alarms"]["rai"]


def test_counted_fas_and_crc_errors_arrive_exactly(tmp_path):
    d = str(tmp_path)
    cfg = {"kind": "E1", "framing": "crc4"}
    far = Engine([(0, dict(cfg), hw.open_line("sim://c/1?offset=19", sim_dir=d).open())], [], {}, None, "far")
    box = Engine([(0, dict(cfg), hw.open_line("sim://c/0", sim_dir=d).open())], [], {}, None, "box")
    try:
        for _ in range(60):
            far.tick()
            box.tick()
        c0 = box.spans[0].rx.counters()
        assert box.status()[0]["up"] and not box.status()[0]["alarms"]["lomf"]
        far.spans[0].line.impair(fas_errors=7)
        for _ in range(10):
            far.tick()
            box.tick()
        c1 = box.spans[0].rx.counters()
        assert c1["rx:fas_errors"] - c0["rx:fas_errors"] == 7
        # CRC-4 covers the FAS bits too: a FAS every 4 frames, two in each 8-frame
        # sub-multiframe (the multiframe starts with the block), so 7 make 4 errored blocks
        assert c1["rx:crc4_errors"] - c0["rx:crc4_errors"] == 4
        far.spans[0].line.impair(crc_errors=45)          # more than one block's worth (20 per block)
        for _ in range(10):
            far.tick()
            box.tick()
        c2 = box.spans[0].rx.counters()
        assert c2["rx:crc4_errors"] - c1["rx:crc4_errors"] == 45 and c2["rx:fas_errors"] == c1["rx:fas_errors"]
        assert c2["rx:ebit_errors"] == 0, "the far end's E bits report our own received errors only"
        assert far.spans[0].rx.counters()["rx:ebit_errors"] == 49, "the box reports every CRC error back"
        assert box.status()[0]["up"], "counted errors never cost the alignment"
        with pytest.raises(ValueError, match="transmitting side"):
            far.spans[0].line.impair(side="rx", crc_errors=1)
        with pytest.raises(ValueError, match="not a count"):
            far.spans[0].line.impair(fas_errors=-1)
    finally:
        far.close()
        box.close()
