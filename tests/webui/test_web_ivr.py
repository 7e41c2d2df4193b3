"""IVR flows and prompt uploads in the web UI: checked before saving, converted, no traversal."""
import array
import io
import json
import math
import os
import wave


def _multipart(fields, files):
    b = "----cbtest"
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (b, k, v)).encode())
    for k, (fn, data) in files.items():
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   "Content-Type: audio/wav\r\n\r\n" % (b, k, fn)).encode())
        out.write(data + b"\r\n")
    out.write(("--%s--\r\n" % b).encode())
    return out.getvalue(), "multipart/form-data; boundary=%s" % b


def _wav(rate=8000, ch=1, seconds=0.5, freq=440):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(rate * seconds)
        s = array.array("h", (int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(n) for _ in range(ch)))
        w.writeframes(s.tobytes())
    return buf.getvalue()


def _upload(c, fields, data):
    body, ctype = _multipart(dict(fields, csrf_token=c.csrf_token("/config/ivr")), {"file": ("p.wav", data)})
    return c.request("POST", "/config/prompts", body=body, headers={"Content-Type": ctype})


FLOW = {"start": "w", "lang": "en", "nodes": {"w": {"type": "play", "prompt": "welcome", "next": "q"},
                                                "q": {"type": "queue", "queue": "support"}}}


def test_a_flow_is_checked_saved_and_drawn_as_a_tree(admin, store, bus):
    bus.replies["acd.reload"] = {"problems": []}
    tok = admin.csrf_token("/config/ivr")
    r = admin.post("/config/ivr", {"name": "main", "flow": json.dumps(FLOW)}, csrf=tok)
    assert r.status == 303 and "Saved+and+applied" in r.location
    assert [f["flow"] for f in store.ivr_flows() if f["name"] == "main"] == [FLOW]
    page = admin.get("/config/ivr").text
    assert "<strong>w</strong>" in page and "queue support" in page
    bad = dict(FLOW, nodes=dict(FLOW["nodes"], w={"type": "play", "prompt": "welcome", "next": "ghost"}))
    r = admin.post("/config/ivr", {"name": "main", "flow": json.dumps(bad)}, csrf=tok)
    assert r.status == 400 and "ivr[main].nodes.w.next: &#039;ghost&#039; is not a node" in r.text
    r = admin.post("/config/ivr", {"name": "main", "flow": "{not json"}, csrf=tok)
    assert r.status == 400 and "flow: not valid JSON" in r.text
    nope = dict(FLOW, nodes=dict(FLOW["nodes"], w={"type": "play", "prompt": "never_recorded", "next": "q"}))
    r = admin.post("/config/ivr", {"name": "main", "flow": json.dumps(nope)}, csrf=tok)
    assert r.status == 400 and "&#039;never_recorded&#039; has not been recorded" in r.text
    assert [f["flow"] for f in store.ivr_flows() if f["name"] == "main"] == [FLOW]      # unchanged


def test_prompt_uploads_are_converted_and_named_safely(admin, data_dir, bus):
    bus.replies["media.prompts"] = {"prompts": 1, "errors": []}
    r = _upload(admin, {"name": "hello", "lang": "zh"}, _wav(44100, 2, 0.5))
    assert r.status == 303 and "in+use" in r.location
    with wave.open(str(data_dir / "prompts" / "zh" / "hello.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert abs(w.getnframes() - 4000) < 20
    assert "media.prompts" in bus.requests
    r = _upload(admin, {"name": "../../etc/passwd", "lang": ""}, _wav())
    assert r.status == 400 and "name:" in r.text
    assert not os.path.exists(str(data_dir / "etc"))
    r = _upload(admin, {"name": "x", "lang": "fr"}, _wav())
    assert r.status == 400 and "lang:" in r.text
    r = _upload(admin, {"name": "x", "lang": ""}, b"MZ\x90\x00 not a wav at all")
    assert r.status == 400 and "not a WAV file" in r.text


def test_oversized_uploads_are_refused_before_reading(admin):
    big = b"x" * (9 * 1024 * 1024)
    r = _upload(admin, {"name": "big", "lang": ""}, big)
    assert r.status == 413
