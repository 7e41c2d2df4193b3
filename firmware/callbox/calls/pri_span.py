"""One PRI span's signalling stack: LAPD (Q.921) under Q.931 call control.

Both the box (user side by default) and the simulated exchange (network side)
use this; the D-channel frames go through the media engine's HDLC.
"""
import logging

from callbox.signalling.q921 import Lapd
from callbox.signalling.q931_call import Q931Link

log = logging.getLogger("callbox.pri")


class PriSpan:
    """Args:
        sid (int): span number.
        side (str): "user" or "network".
        send_frame (callable): send_frame(bytes) to the D-channel (HDLC adds the FCS).
        on_event (callable): on_event(dict) for Q.931 call events (see Q931Link).
        clock: call_later()/time() (the asyncio loop in daemons).
        on_link (callable): on_link(bool) when the data link comes up or goes down.
        kind (str): "E1" (30B+D, A-law) or "T1" (23B+D, mu-law).
        overlap (bool), number_complete (callable): overlap receiving (see Q931Link).
        on_line (callable): on_line(call id, text) for every Q.931 line of a call (its ladder).
    """

    def __init__(self, sid, side, send_frame, on_event, clock, on_link=None, kind="E1", overlap=False,
                 number_complete=None, on_line=None):
        self.sid = sid
        self.side = side
        self.kind = kind
        self.on_link = on_link or (lambda up: None)
        name = "span%d" % sid
        kw = {"overlap": overlap, "number_complete": number_complete, "on_line": on_line}
        if kind == "T1":
            # 23B+D: B-channels 1..23, mu-law (the D-channel is channel 24)
            kw.update(channels=range(1, 24), law="ulaw")
        self.q931 = Q931Link(name, side, self._send_l3, clock, on_event, **kw)
        self.sig = self.q931          # the call API call control uses (an R2Span offers the same)
        self.lapd = Lapd(name, side, send_frame, self.q931.receive, self._l2_state, clock)
        self.link = False
        self.line_is_up = False

    def _send_l3(self, data):
        self.lapd.send(data)

    def _l2_state(self, state):
        up = state == "established"
        if up != self.link:
            self.link = up
            log.info("span%d: D-channel %s", self.sid, "up" if up else "down (%s)" % state)
            if up:
                self.q931.link_up()
            else:
                self.q931.link_down()
            self.on_link(up)

    def line_up(self):
        if not self.line_is_up:
            self.line_is_up = True
            self.lapd.start()

    def line_down(self):
        if self.line_is_up:
            self.line_is_up = False
            self.lapd.stop()
            self._l2_state("released")

    def rx_frame(self, frame):
        self.lapd.receive_frame(frame)

    def status(self):
        return {"span": self.sid, "side": self.side, "dchan": "up" if self.link else "down",
                "l2_state": self.lapd.state, "calls": len(self.q931.calls)}
