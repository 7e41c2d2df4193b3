"""Call records: the CDR table and its CSV export, a call's event log, and recordings.

Recordings are looked up by their integer id in the index; the stored path is
resolved (symlinks included) and refused unless it stays inside
<data_dir>/recordings. Every view and every download of a recording, and every
refusal, is written to the audit log.
"""
import csv
import io
import json
import logging
import os
import re
import time

from bottle import HTTPError, request, response, static_file

from callbox_web.context import iso_time, parse_page

log = logging.getLogger("callbox.web")

RECORD_ROLES = ("admin", "supervisor", "viewer")      # who may read CDRs and call logs
RECORDING_ROLES = ("admin", "supervisor")             # who may listen to calls
PAGE_SIZE = 50
CSV_BATCH = 1000
MAX_ID = 2 ** 63 - 1                                  # SQLite INTEGER
CALL_ID_RULE = r"[A-Za-z0-9._:@+-]{1,128}"
CDR_COLUMNS = ("call_id", "start", "answer", "end", "span", "chan", "ani", "dnis", "digits", "queue", "agent",
               "seat", "wait_s", "talk_s", "disposition", "cause", "recording")
_TIME_COLUMNS = ("start", "answer", "end")
_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def csv_cell(v):
    """A value for the CSV export; text a spreadsheet would run as a formula gets a leading quote."""
    if v is None:
        return ""
    s = str(v)
    if s and s[0] in "=+-@\t\r" and not _NUMBER.match(s):
        return "'" + s
    return s


_Q931_DIR = re.compile(r"^\{[A-Z_0-9]+\} (tx|rx) ")


def ladder_rows(ladder):
    """A call's signalling lines as ladder rows: {t, dir: "out" (box to far end), "in" (far end
    to box) or "note" (a state change, timer or channel event), text}."""
    rows = []
    for entry in ladder or []:
        try:
            t, kind, text = entry
        except (TypeError, ValueError):
            continue
        text = str(text)
        if kind == "q931":
            m = _Q931_DIR.match(text)
            d = {"tx": "out", "rx": "in"}.get(m.group(1)) if m else "note"
        else:
            d = {"tx": "out", "rx": "in"}.get(kind, "note")
        rows.append({"t": t, "dir": d, "text": text})
    return rows


def install(app, web):
    """Add /cdr, /cdr.csv, /calls/<id> and /recordings/... to app."""

    def recording_links(cdrs):
        """{call_id: recording id} for a page of CDRs."""
        links = {c["call_id"]: c["recording"] for c in cdrs if c.get("recording")}
        missing = [c["call_id"] for c in cdrs if c["call_id"] not in links]
        if missing:
            rows = web.store.query("SELECT id, call_id FROM recordings WHERE call_id IN (%s) ORDER BY id"
                                   % ", ".join("?" * len(missing)), missing)
            for r in rows:
                links.setdefault(r["call_id"], r["id"])
        return links

    def may_listen():
        user = web.current_user()
        return bool(user and user["role"] in RECORDING_ROLES)

    @app.get("/cdr", roles=RECORD_ROLES, nav="Call records")
    def cdr_page():
        page = parse_page()
        rows = web.store.cdrs(PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        return web.render("cdr", title="Call records", cdrs=rows, page=page, more=more,
                          links=recording_links(rows) if may_listen() else {})

    @app.get("/cdr.csv", roles=RECORD_ROLES)
    def cdr_csv():
        user = web.current_user()
        web.audit.write(user["username"], "cdr.export", "ip=%s" % web.client_ip())
        response.content_type = "text/csv; charset=utf-8"
        stamp = iso_time(web.clock()).replace(":", "")[:17]
        response.set_header("Content-Disposition", 'attachment; filename="callbox-cdr-%s.csv"' % stamp)

        def rows():
            buf = io.StringIO()
            out = csv.writer(buf)
            out.writerow(CDR_COLUMNS)
            offset = 0
            while True:
                batch = web.store.cdrs(CSV_BATCH, offset)
                for c in batch:
                    out.writerow([iso_time(c.get(k)) if k in _TIME_COLUMNS else csv_cell(c.get(k))
                                  for k in CDR_COLUMNS])
                yield buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
                if len(batch) < CSV_BATCH:
                    return
                offset += CSV_BATCH

        return rows()

    @app.get("/calls/<call_id:re:%s>" % CALL_ID_RULE, roles=RECORD_ROLES)
    def call_page(call_id):
        cdrs = web.store.cdrs(call_id=call_id)
        events = web.store.call_events(call_id)
        recs = web.store.recordings(call_id=call_id) if may_listen() else []
        if not cdrs and not events and not recs:
            raise HTTPError(404, "No call %r in the call records or event log." % call_id)
        stored = [e for e in events if e["event"] == "signalling"]
        events = [e for e in events if e["event"] != "signalling"]
        ladder, ladder_note = None, None
        if stored:
            ladder = (stored[-1]["detail"] or {}).get("ladder")
        elif not cdrs:                      # in progress: call control holds the ladder
            try:
                ladder = web.bus.request("call.ladder", {"call_id": call_id}, 2.0)
            except Exception as e:          # BusError, or no call control at all
                ladder_note = "Call control is not reachable (%s): the ladder shows when the call has ended." % e
        for e in events:
            e["detail_text"] = json.dumps(e["detail"], sort_keys=True, separators=(", ", ": ")) \
                if e["detail"] else ""
        return web.render("call", title="Call %s" % call_id, call_id=call_id, cdr=cdrs[0] if cdrs else None,
                          events=events, recordings=recs, note=web.store.notes([call_id]).get(call_id),
                          ladder=ladder_rows(ladder), ladder_note=ladder_note)

    @app.get("/recordings", roles=RECORDING_ROLES, nav="Recordings")
    def recordings_page():
        page = parse_page()
        q = {k: (request.query.getunicode(k) or "").strip() for k in ("ani", "agent", "queue", "day")}
        for k in ("ani", "agent", "queue"):
            if q[k] and not re.match(r"^[0-9A-Za-z_.*#+-]{1,32}$", q[k]):
                raise HTTPError(400, "%s: %r may hold only digits, letters and . _ - + * # (at most 32)" % (k, q[k]))
        since = until = None
        if q["day"]:
            try:
                since = time.mktime(time.strptime(q["day"], "%Y-%m-%d"))
            except ValueError:
                raise HTTPError(400, "day: %r is not a date YYYY-MM-DD" % q["day"]) from None
            until = since + 86400
        rows = web.store.recordings(PAGE_SIZE + 1, (page - 1) * PAGE_SIZE, ani=q["ani"] or None,
                                    agent=q["agent"] or None, queue=q["queue"] or None, since=since, until=until)
        more = len(rows) > PAGE_SIZE
        return web.render("recordings", title="Recordings", recordings=rows[:PAGE_SIZE], page=page, more=more, q=q)

    def indexed(rec_id):
        row = web.store.recording(rec_id) if 0 < rec_id <= MAX_ID else None
        if row is None:
            raise HTTPError(404, "Recording %d is not in the recording index." % rec_id)
        return row

    def inside_root(row):
        """The recording's path relative to the recordings directory; refuses (403) one that escapes it."""
        root = web.rec_root
        stored = row["path"] or ""
        full = os.path.realpath(os.path.join(root, stored))
        if os.path.isabs(stored) or full == root or os.path.commonpath([root, full]) != root:
            user = web.current_user()
            web.audit.write(user["username"], "recording.refused",
                            "id=%d path=%r ip=%s" % (row["id"], stored, web.client_ip()))
            log.warning("recording %d: stored path %r leaves %s; refused", row["id"], stored, root)
            raise HTTPError(403, "Recording %d: its indexed file path points outside the recordings directory, "
                                 "so it is not served. The attempt was logged." % row["id"])
        return os.path.relpath(full, root)

    @app.get("/recordings/<rec_id:int>", roles=RECORDING_ROLES)
    def recording_page(rec_id):
        row = indexed(rec_id)
        inside_root(row)
        user = web.current_user()
        web.audit.write(user["username"], "recording.view", "id=%d ip=%s" % (rec_id, web.client_ip()))
        return web.render("recording", title="Recording %d" % rec_id, rec=row)

    @app.get("/recordings/<rec_id:int>.wav", roles=RECORDING_ROLES)
    def recording_wav(rec_id):
        row = indexed(rec_id)
        rel = inside_root(row)
        res = static_file(rel, root=web.rec_root, mimetype="audio/wav")
        if res.status_code == 404:
            raise HTTPError(404, "Recording %d: its file is missing from the recordings directory." % rec_id)
        if res.status_code >= 400:
            raise res
        user = web.current_user()
        web.audit.write(user["username"], "recording.play", "id=%d path=%s range=%s status=%d ip=%s" % (
            rec_id, rel, request.environ.get("HTTP_RANGE", "-")[:64], res.status_code, web.client_ip()))
        return res
