"""System (admin): firmware and daemons, configuration backup and restore, restart.

The backup is one JSON file of the whole configuration (spans, seats, agents, queues, IVR
flows, routes, users with their password hashes, settings). A restore is checked entry by
entry and replaces everything or nothing; afterwards call control applies it at once and the
page offers a restart for span and seat changes.
"""
import json
import time

from bottle import request, response

from callbox.errors import BusError, ConfigError

from callbox_web.context import see_other

ADMIN = ("admin",)
RESTORE_LIMIT = 4 * 1024 * 1024


def install(app, web):
    def page(status=200, error=None):
        try:
            daemons = web.bus.request("sup.status", None, 2.0)
        except BusError as e:
            daemons, error = [], error or "supervisor not reachable: %s" % e
        from importlib import metadata
        try:
            version = metadata.version("callbox")
        except metadata.PackageNotFoundError:
            version = "unknown"
        with web.db_lock:
            retention = web.store.get_setting("recordings.retention_days", 0)
        response.status = status
        return web.render("system", title="System", daemons=daemons, version=version, error=error,
                          notice=request.query.getunicode("done") or None, retention=retention)

    @app.get("/system", roles=ADMIN, nav="System")
    def system():
        return page()

    @app.get("/system/backup.json", roles=ADMIN)
    def backup():
        with web.db_lock:
            data = web.store.backup()
        web.audit.write(web.current_user()["username"], "config.backup", "ip=%s" % web.client_ip())
        response.content_type = "application/json; charset=utf-8"
        response.set_header("Content-Disposition", 'attachment; filename="callbox-config-%s.json"'
                            % time.strftime("%Y%m%d-%H%M%S"))
        return json.dumps(data, indent=1, ensure_ascii=False)

    @app.post("/system/restore", roles=ADMIN)
    def restore():
        upload = request.files.get("file")
        if upload is None:
            return page(400, "file: choose a backup file (callbox-config-*.json)")
        raw = upload.file.read(RESTORE_LIMIT + 1)
        if len(raw) > RESTORE_LIMIT:
            return page(413, "file: larger than %d bytes; not a configuration backup" % RESTORE_LIMIT)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            return page(400, "file: not a JSON backup (%s); nothing was replaced" % e)
        try:
            with web.db_lock:
                web.store.restore(data)
        except ConfigError as e:
            return page(400, "%s; nothing was replaced" % e)
        web.audit.write(web.current_user()["username"], "config.restore", "from %s" % (upload.filename or "?")[:100])
        try:
            web.bus.request("acd.reload", None, 3.0)
            note = "Configuration restored and applied; restart the box for span and seat changes."
        except BusError:
            note = "Configuration restored; call control applies it when it starts."
        see_other("/system?done=" + note.replace(" ", "+"))

    @app.post("/system/restart", roles=ADMIN)
    def restart():
        if request.forms.getunicode("confirm", default="") != "yes":
            return page(400, "confirm: tick the box to confirm: a restart drops every call in progress")
        try:
            web.bus.request("sup.reboot", {"reason": "web UI restart by %s" % web.current_user()["username"]}, 3.0)
        except BusError as e:
            return page(409, "restart refused: %s" % e)
        web.audit.write(web.current_user()["username"], "system.restart", "")
        see_other("/system?done=Restarting.")

    @app.post("/system/retention", roles=ADMIN)
    def retention():
        raw = (request.forms.getunicode("days", default="") or "").strip()
        if not raw.isdigit() or int(raw) > 3650:
            return page(400, "days: %r must be a whole number of days, 0 (keep for ever) to 3650" % raw)
        with web.db_lock:
            web.store.set_setting("recordings.retention_days", int(raw))
        web.audit.write(web.current_user()["username"], "config.change", "recordings kept %s days" % raw)
        see_other("/system?done=Recordings+are+kept+%s+days+(0+%%3D+for+ever)." % raw)
