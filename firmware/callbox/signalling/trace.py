"""One-line descriptions of D-channel frames for the signalling monitor and logs.

``describe(frame)`` turns a Q.921 frame (address, control, information; no flags
or FCS) into text such as::

    I s0 ns3 nr5 | Q.931 SETUP cref 0x0001 to-net chan 3 called 10086 calling 13800138000
    RR r nr6 P
    SABME c P

It never raises: whatever does not parse is shown as hex with the reason.
"""
Q931_TYPES = {
    0x01: "ALERTING", 0x02: "CALL PROCEEDING", 0x03: "PROGRESS", 0x05: "SETUP", 0x07: "CONNECT",
    0x0D: "SETUP ACKNOWLEDGE", 0x0F: "CONNECT ACKNOWLEDGE", 0x45: "DISCONNECT", 0x46: "RESTART",
    0x4D: "RELEASE", 0x4E: "RESTART ACKNOWLEDGE", 0x5A: "RELEASE COMPLETE", 0x62: "FACILITY",
    0x6E: "NOTIFY", 0x75: "STATUS ENQUIRY", 0x7B: "INFORMATION", 0x7D: "STATUS",
}
U_FRAMES = {0x6F: "SABME", 0x63: "UA", 0x0F: "DM", 0x43: "DISC", 0x87: "FRMR", 0x03: "UI", 0xAF: "XID"}
S_FRAMES = {0x01: "RR", 0x05: "RNR", 0x09: "REJ"}


def _hex(b):
    return " ".join("%02x" % x for x in b[:24]) + (" ..." if len(b) > 24 else "")


def _ies(body):
    out = []
    i = 0
    while i < len(body):
        ie = body[i]
        if ie & 0x80:                     # single-octet IE
            if ie == 0xA1:
                out.append("sending-complete")
            i += 1
            continue
        if i + 1 >= len(body):
            out.append("(truncated IE %02x)" % ie)
            break
        n = body[i + 1]
        v = body[i + 2:i + 2 + n]
        if len(v) < n:
            out.append("(truncated IE %02x)" % ie)
            break
        if ie == 0x18 and v:              # channel identification
            chan = v[-1] & 0x7F if len(v) >= 3 else None
            out.append("chan %s%s" % (chan if chan is not None else "?", " excl" if v[0] & 0x08 else ""))
        elif ie in (0x70, 0x6C) and v:    # called / calling number
            start = 1 if v[0] & 0x80 else 2
            digits = bytes(x & 0x7F for x in v[start:]).decode("ascii", "replace")
            out.append("%s %s" % ("called" if ie == 0x70 else "calling", digits or "-"))
        elif ie == 0x08 and len(v) >= 2:  # cause
            out.append("cause %d" % (v[-1] & 0x7F if len(v) == 2 else v[1] & 0x7F))
        elif ie == 0x79 and v:
            out.append("restart class %d" % (v[0] & 0x07))
        i += 2 + n
    return out


def describe_q931(info):
    if len(info) < 3 or info[0] != 0x08:
        return "L3 %s (not Q.931: protocol discriminator %02x)" % (_hex(info), info[0] if info else 0)
    crl = info[1] & 0x0F
    if len(info) < 2 + crl + 1:
        return "Q.931 (truncated) %s" % _hex(info)
    cref = int.from_bytes(info[2:2 + crl], "big") if crl else 0
    flag = bool(crl and info[2] & 0x80)
    cref &= ~(0x80 << (8 * (crl - 1))) if crl else 0
    mt = info[2 + crl]
    name = Q931_TYPES.get(mt, "type 0x%02x" % mt)
    parts = ["Q.931", name, "cref 0x%04x%s" % (cref, " (theirs)" if flag else "")]
    parts += _ies(info[3 + crl:])
    return " ".join(parts)


def describe(frame):
    """One line for a Q.921 frame (bytes); never raises."""
    try:
        if len(frame) < 3:
            return "short frame %s" % _hex(frame)
        sapi, cr = frame[0] >> 2, (frame[0] >> 1) & 1
        tei = frame[1] >> 1
        ctl = frame[2]
        head = "" if (sapi, tei) == (0, 0) else "sapi %d tei %d " % (sapi, tei)
        if ctl & 1 == 0:                  # I frame
            if len(frame) < 4:
                return "I frame without N(R) %s" % _hex(frame)
            ns, nr, p = ctl >> 1, frame[3] >> 1, frame[3] & 1
            return "%sI ns%d nr%d%s | %s" % (head, ns, nr, " P" if p else "", describe_q931(frame[4:]))
        if ctl & 3 == 1:                  # S frame
            if len(frame) < 4:
                return "S frame without N(R) %s" % _hex(frame)
            return "%s%s %s nr%d%s" % (head, S_FRAMES.get(ctl, "S 0x%02x" % ctl), "cr%d" % cr,
                                        frame[3] >> 1, " P/F" if frame[3] & 1 else "")
        name = U_FRAMES.get(ctl & ~0x10, "U 0x%02x" % ctl)
        extra = " | " + describe_q931(frame[3:]) if name == "UI" and len(frame) > 3 else ""
        return "%s%s %s%s%s" % (head, name, "cr%d" % cr, " P/F" if ctl & 0x10 else "", extra)
    except Exception as e:               # a monitor must show anything, never fail
        return "unparsed frame %s (%s)" % (_hex(frame), e)
