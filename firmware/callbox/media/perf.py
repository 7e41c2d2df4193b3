"""Performance registers of a span: the 15-minute and 24-hour counts `show controllers e1` users read.

Once a second the engine hands over that second's error counts and defects; each second is
classified (ITU-T G.826 / ANSI T1.231 definitions as the usual framers apply them to E1):

* ES  errored second: at least one CRC-4 block error (or FAS error without CRC-4), or a defect
* SES severely errored: >= 30 % errored CRC-4 blocks (300 of 1000), or LOS/LOF/AIS in the second
* BES bursty errored: errored but not severe, with more than one error
* CSS controlled-slip second; FLS frame-loss second (LOF or LOS)
* UAS unavailable: from the first of 10 consecutive SES until the first of 10 consecutive
  non-SES seconds; seconds counted unavailable are not counted ES/SES/BES (T1.231 / G.826)
* LCV line code violations and PCV path code violations (CRC-4, else FAS errors), summed

Intervals start on wall-clock quarter hours; 96 past intervals make the 24-hour view.
"""
import collections

SES_BLOCKS = 300            # G.826: 30 % of the 1000 CRC-4 sub-multiframes of a second
UAS_RUN = 10
INTERVAL_S = 900
FIELDS = ("es", "ses", "bes", "uas", "css", "fls", "lcv", "pcv")
NAMES = {"es": "Errored Secs", "ses": "Severely Err Secs", "bes": "Bursty Err Secs", "uas": "Unavail Secs",
         "css": "Slip Secs", "fls": "Fr Loss Secs", "lcv": "Line Code Violations", "pcv": "Path Code Violations"}


class PerfMonitor:
    """Args:
        start (float): Unix time of the first second handed over.
    """

    def __init__(self, start):
        self.interval_start = start - start % INTERVAL_S
        self.current = dict.fromkeys(FIELDS, 0)
        self.history = collections.deque(maxlen=96)      # (start, counts) newest last
        self.unavailable = False
        self._pending = []       # seconds held back while a run of SES/non-SES decides availability
        self.seconds = 0

    def second(self, t, crc_errors=0, fas_errors=0, bpv=0, slips=0, los=False, lof=False, ais=False,
               crc4=True):
        """Account one second ending at Unix time t."""
        while t - self.interval_start >= INTERVAL_S:
            self._flush_pending()
            self.history.append((self.interval_start, self.current))
            self.current = dict.fromkeys(FIELDS, 0)
            self.interval_start += INTERVAL_S
        self.seconds += 1
        pcv = crc_errors if crc4 else fas_errors
        defect = los or lof or ais
        sec = {
            "errored": defect or pcv > 0,
            "severe": defect or (crc4 and crc_errors >= SES_BLOCKS),
            "pcv": pcv, "lcv": bpv, "slip": slips > 0, "fls": los or lof,
        }
        self.current["lcv"] += bpv
        self.current["pcv"] += pcv
        self.current["css"] += 1 if sec["slip"] else 0
        self.current["fls"] += 1 if sec["fls"] else 0
        self._pending.append(sec)
        run = self._pending[-UAS_RUN:]
        if len(run) == UAS_RUN and all(s["severe"] == (not self.unavailable) for s in run):
            # ten in a row change availability, from the first of them on
            for s in self._pending[:-UAS_RUN]:
                self._count(s)                      # before the run: as things stood
            self.unavailable = not self.unavailable
            for s in run:
                self._count(s)                      # the run already belongs to the new state
            self._pending = []
        elif len(self._pending) > UAS_RUN:
            self._count(self._pending.pop(0))

    def _count(self, s):
        if self.unavailable:
            self.current["uas"] += 1
            return
        if s["errored"]:
            self.current["es"] += 1
        if s["severe"]:
            self.current["ses"] += 1
        elif s["errored"] and s["pcv"] > 1:
            self.current["bes"] += 1

    def _flush_pending(self):
        for s in self._pending:
            self._count(s)
        self._pending = []

    def snapshot(self):
        """{"interval_s": seconds into the current interval, "current": {...}, "last_24h": {...},
        "intervals": n past intervals}. Seconds still being judged for availability are counted
        as they stand."""
        cur = dict(self.current)
        for s in self._pending:
            if self.unavailable:
                cur["uas"] += 1
            else:
                cur["es"] += 1 if s["errored"] else 0
                cur["ses"] += 1 if s["severe"] else 0
                cur["bes"] += 1 if (s["errored"] and not s["severe"] and s["pcv"] > 1) else 0
        day = dict.fromkeys(FIELDS, 0)
        for _, c in self.history:
            for k in FIELDS:
                day[k] += c[k]
        recent = [dict(c, start=t) for t, c in reversed(list(self.history)[-4:])]
        return {"interval_start": self.interval_start, "current": cur, "last_24h": day,
                "intervals": len(self.history), "intervals_data": recent}
