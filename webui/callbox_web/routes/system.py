"""System (admin): firmware and daemons, configuration backup and restore, restart.

The backup is one JSON file of the whole configuration (spans, seats, agents, queues, IVR
flows, routes, users with their password hashes, settings). A restore is checked entry by
entry and replaces everything or nothing; afterwards call control applies it at once and the
page offers a restart for span and seat changes.
"""
import json
import logging
import os
import shutil
import threading
import time

from bottle import request, response

from callbox import update
from callbox.errors import BusError, ConfigError

from callbox_web.context import see_other

ADMIN = ("admin",)
RESTORE_LIMIT = 4 * 1024 * 1024
UPDATE_LIMIT = 1024 ** 3
log = logging.getLogger("callbox.web")


def install(app, web):
    def page(status=200, error=None):
        try:
            daemons = web.bus.request("sup.status", None, 2.0)
        except BusError as e:
            daemons, error = [], error or "supervisor not reachable: %s" % e
        try:
            health = web.bus.request("sup.health", None, 2.0)
        except BusError:
            health = None
        from importlib import metadata
        try:
            version = metadata.version("callbox")
        except metadata.PackageNotFoundError:
            version = "unknown"
        with web.db_lock:
            retention = web.store.get_setting("recordings.retention_days", 0)
        response.status = status
        return web.render("system", title="System", daemons=daemons, health=health, version=version, error=error,
                          notice=request.query.getunicode("done") or None, retention=retention,
                          slots=update.slot_summary(web.data_dir), upd=dict(upd))

    # -- firmware update: one at a time, on a thread; the page polls /api/update -----------
    upd = {"state": "idle", "percent": 0, "text": "", "error": None, "version": None, "by": None, "t": None}
    upd_lock = threading.Lock()

    def set_progress(pct, text):
        with upd_lock:
            upd.update(percent=int(pct), text=text)

    def run_update(path, user):
        compatible, keyring = update.box_identity(data_dir=web.data_dir)
        try:
            res = update.apply(path, keyring, compatible, os.path.join(web.data_dir, "updates"),
                               update.installer_for(web.data_dir, keyring), set_progress)
            with upd_lock:
                upd.update(state="done", percent=100, text=res["result"], version=res["version"])
            web.audit.write(user, "firmware.update", "installed %s: %s" % (res["version"], res["result"]))
        except update.UpdateError as e:
            with upd_lock:
                upd.update(state="failed", error=str(e))
            web.audit.write(user, "firmware.update", str(e))
        except Exception as e:            # report, never leave the page spinning
            log.exception("firmware update failed")
            with upd_lock:
                upd.update(state="failed", error="internal error: %s" % e)
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass

    @app.post("/system/update", roles=ADMIN)
    def update_post():
        with upd_lock:
            busy = upd["state"] in ("receiving", "checking")
        if busy:
            return page(409, "an update is already running (%d %%); wait for it to finish" % upd["percent"])
        upload = request.files.get("file")
        if upload is None:
            return page(400, "file: choose an update bundle (callbox-<board>-<version>.raucb)")
        upd_dir = os.path.join(web.data_dir, "updates")
        os.makedirs(upd_dir, exist_ok=True)
        need = 2 * int(request.content_length or 0)
        st = os.statvfs(upd_dir)
        if st.f_bavail * st.f_frsize < need:
            return page(507, "not enough room on /data for this bundle and its check (%d MB free, %d MB needed); "
                        "delete old recordings first" % (st.f_bavail * st.f_frsize // 2 ** 20, need // 2 ** 20))
        path = os.path.join(upd_dir, "upload.raucb")
        with upd_lock:
            upd.update(state="receiving", percent=0, text="receiving the bundle", error=None, version=None,
                       by=web.current_user()["username"], t=time.time())
        try:
            with open(path, "wb") as f:
                shutil.copyfileobj(upload.file, f, 1024 * 1024)
        except OSError as e:
            with upd_lock:
                upd.update(state="failed", error="storing the upload failed: %s" % e.strerror)
            return page(507, "storing the upload failed: %s" % e.strerror)
        with upd_lock:
            upd.update(state="checking", text="checking the bundle")
        user = web.current_user()["username"]
        web.audit.write(user, "firmware.update", "upload %s (%d bytes)" % ((upload.filename or "?")[:100],
                                                                           os.path.getsize(path)))
        threading.Thread(target=run_update, args=(path, user), name="update", daemon=True).start()
        see_other("/system/update")

    @app.get("/system/update", roles=ADMIN)
    def update_page():
        with upd_lock:
            state = dict(upd)
        return web.render("update", title="Firmware update", upd=state, slots=update.slot_summary(web.data_dir))

    @app.get("/api/update", roles=ADMIN)
    def update_api():
        with upd_lock:
            state = dict(upd)
        state["slots"] = update.slot_summary(web.data_dir)
        response.content_type = "application/json"
        return json.dumps(state)

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
