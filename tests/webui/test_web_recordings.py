"""Web UI: recording list, playback page, WAV download with Range, path checks and audit."""
import os

import pytest

pytestmark = pytest.mark.args


@pytest.fixture
def rec(store, data_dir, wav):
    """One real recording at recordings/2024/05/01/c-1.wav; returns (id, bytes)."""
    body = wav(data_dir / "recordings" / "2024" / "05" / "01" / "c-1.wav")
    store.add_cdr({"call_id": "c-1", "start": 900.0, "end": 950.0, "disposition": "answered"})
    rec_id = store.add_recording("c-1", "2024/05/01/c-1.wav", 900.0)
    store.finish_recording(rec_id, 0.1, len(body))
    return rec_id, body


def audit(store, action):
    return store.query("SELECT user, detail FROM audit WHERE action=? ORDER BY id", (action,))


def test_recordings_list(admin, rec):
    r = admin.get("/recordings")
    assert r.status == 200 and 'href="/recordings/%d"' % rec[0] in r.text and "c-1" in r.text


def test_playback_page_has_an_audio_element(admin, rec, store):
    r = admin.get("/recordings/%d" % rec[0])
    assert r.status == 200
    assert '<audio controls preload="metadata" src="/recordings/%d.wav">' % rec[0] in r.text
    assert audit(store, "recording.view") == [{"user": "root", "detail": "id=%d ip=192.0.2.10" % rec[0]}]


def test_wav_download_and_range(login_as, rec, store):
    sup = login_as("supervisor")
    rec_id, body = rec
    r = sup.get("/recordings/%d.wav" % rec_id)
    assert r.status == 200 and r.body == body
    assert r.body[:4] == b"RIFF" and r.body[8:12] == b"WAVE"
    assert r.header("Content-Type") == "audio/wav" and r.header("Accept-Ranges") == "bytes"
    r = sup.get("/recordings/%d.wav" % rec_id, headers={"Range": "bytes=0-43"})
    assert r.status == 206 and r.body == body[:44]
    assert r.header("Content-Range") == "bytes 0-43/%d" % len(body)
    rows = audit(store, "recording.play")
    assert [row["user"] for row in rows] == ["sue", "sue"]
    assert "path=2024/05/01/c-1.wav range=- status=200" in rows[0]["detail"]
    assert "range=bytes=0-43 status=206" in rows[1]["detail"]


@pytest.mark.parametrize("stored", ["../../etc/passwd", "/etc/passwd", "2024/../../callbox.db", "..", ""])
def test_tampered_index_path_is_refused(admin, store, stored):
    rec_id = store.add_recording("c-x", stored, 1.0)
    for url in ("/recordings/%d.wav" % rec_id, "/recordings/%d" % rec_id):
        r = admin.get(url)
        assert r.status == 403, (stored, url)
        assert "outside the recordings directory" in r.text
        assert b"root:" not in r.body and b"SQLite" not in r.body
    rows = audit(store, "recording.refused")
    assert len(rows) == 2 and "id=%d" % rec_id in rows[0]["detail"]
    assert audit(store, "recording.play") == []


def test_symlink_out_of_the_recordings_directory_is_refused(admin, store, data_dir, tmp_path):
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFFsecret")
    os.symlink(str(secret), str(data_dir / "recordings" / "link.wav"))
    rec_id = store.add_recording("c-y", "link.wav", 1.0)
    r = admin.get("/recordings/%d.wav" % rec_id)
    assert r.status == 403 and b"secret" not in r.body


def test_unknown_or_missing_recording(admin, store, rec):
    assert admin.get("/recordings/999.wav").status == 404
    assert admin.get("/recordings/0").status == 404
    assert admin.get("/recordings/99999999999999999999999.wav").status == 404
    assert admin.get("/recordings/abc.wav").status == 404
    gone = store.add_recording("c-2", "2024/05/01/c-2.wav", 2.0)
    r = admin.get("/recordings/%d.wav" % gone)
    assert r.status == 404 and "file is missing" in r.text


def test_agents_and_viewers_cannot_listen(login_as, rec, store):
    for role in ("agent", "viewer"):
        c = login_as(role)
        assert c.get("/recordings/%d.wav" % rec[0]).status == 403
        assert c.get("/recordings/%d" % rec[0]).status == 403
    assert audit(store, "recording.play") == []


def test_recordings_are_searchable_by_caller_agent_and_day(login_as, store):
    import time as _t
    day = _t.strftime("%Y-%m-%d", _t.localtime(1_800_000_000))
    for cid, ani, agent in (("s1", "13800000001", "1001"), ("s2", "02012345", "1002")):
        store.add_cdr({"call_id": cid, "start": 1_800_000_000.0, "end": 1_800_000_060.0, "ani": ani, "agent": agent,
                       "queue": "sales", "disposition": "answered"})
        store.add_recording(cid, "%s.wav" % cid, 1_800_000_000.0)
    c = login_as("supervisor")
    page = c.get("/recordings?ani=138&day=%s" % day).text
    assert ">s1<" in page and ">s2<" not in page
    page = c.get("/recordings?agent=1002").text
    assert ">s2<" in page and ">s1<" not in page
    assert c.get("/recordings?day=yesterday").status == 400
    assert c.get("/recordings?ani=%27%20OR%201%3D1").status == 400


def test_the_next_page_keeps_the_search(login_as, store):
    for i in range(60):
        cid = "p%02d" % i
        store.add_cdr({"call_id": cid, "start": 1_800_000_000.0 + i, "end": 1_800_000_100.0 + i, "ani": "139%08d" % i,
                       "agent": "1001", "queue": "sales", "disposition": "answered"})
        store.add_recording(cid, "%s.wav" % cid, 1_800_000_000.0 + i)
    page = login_as("supervisor").get("/recordings?agent=1001&ani=139").text
    assert 'href="/recordings?agent=1001&amp;ani=139&amp;page=2"' in page
