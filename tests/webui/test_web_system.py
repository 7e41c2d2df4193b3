"""System page: backup download, restore checked all or nothing, confirmed restart."""
import json


def _restore(c, payload):
    b = "----cbsys"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n%s\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cfg.json\"\r\n"
            "Content-Type: application/json\r\n\r\n" % (b, c.csrf_token("/system"), b)).encode() + payload + \
        ("\r\n--%s--\r\n" % b).encode()
    return c.request("POST", "/system/restore", body=body,
                     headers={"Content-Type": "multipart/form-data; boundary=%s" % b})


def test_backup_and_restore_round_trip(admin, store, bus):
    bus.replies["acd.reload"] = {"problems": []}
    store.put_queue({"name": "vip", "strategy": "ring-all"})
    r = admin.get("/system/backup.json")
    assert r.status == 200 and "attachment" in r.header("Content-Disposition")
    data = json.loads(r.text)
    assert data["format"] == "callbox-config-1" and any(q["name"] == "vip" for q in data["queues"])
    store.execute("DELETE FROM queues WHERE name='vip'")
    r = _restore(admin, json.dumps(data).encode())
    assert r.status == 303 and "restored" in r.location
    assert any(q["name"] == "vip" for q in store.queues())
    assert {a["action"] for a in store.query("SELECT action FROM audit")} >= {"config.backup", "config.restore"}


def test_broken_backups_replace_nothing(admin, store):
    store.put_queue({"name": "keep"})
    before = store.backup()
    r = _restore(admin, b"\x89PNG garbage")
    assert r.status == 400 and "not a JSON backup" in r.text and "nothing was replaced" in r.text
    bad = dict(before, queues=[{"name": "q", "strategy": "fastest"}])
    r = _restore(admin, json.dumps(bad).encode())
    assert r.status == 400 and "backup.queues[0]" in r.text
    after = store.backup()
    after["made"] = before["made"]
    assert after == before


def test_restart_needs_confirmation(admin, bus):
    bus.replies["sup.reboot"] = {"rebooting": True}
    tok = admin.csrf_token("/system")
    r = admin.post("/system/restart", {}, csrf=tok)
    assert r.status == 400 and "sup.reboot" not in bus.requests
    assert admin.post("/system/restart", {"confirm": "yes"}, csrf=tok).status == 303
    assert "sup.reboot" in bus.requests


def test_retention_setting(admin, store):
    tok = admin.csrf_token("/system")
    assert admin.post("/system/retention", {"days": "forever"}, csrf=tok).status == 400
    assert admin.post("/system/retention", {"days": "90"}, csrf=tok).status == 303
    assert store.get_setting("recordings.retention_days") == 90


def test_system_page_shows_health_the_watchdog_and_the_leds(admin, bus):
    bus.replies["sup.status"] = []
    bus.replies["sup.health"] = {"healthy": False, "why": "the media tick is stuck at 42", "watchdog_feeds": 17,
                                 "leds": {"power": True, "status": False, "span0_alarm": True}}
    t = admin.get("/system").text
    assert "Health: <strong>BAD</strong> (the media tick is stuck at 42)" in t
    assert "fed 17 times and is no longer fed" in t and "span0_alarm on, status off" in t
    del bus.replies["sup.health"]                     # no board: nothing said about it
    assert "Health:" not in admin.get("/system").text
