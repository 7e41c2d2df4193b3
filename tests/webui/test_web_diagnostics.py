"""Span diagnostics in the browser: status and counters for supervisors; loopback and BERT for
admins only, a loopback only with its confirmation, every action audited."""


def test_supervisors_see_spans_admins_loop_and_test(login_as, bus, store):
    bus.replies["span.bert"] = {"span": 0, "running": True, "synced": True, "bits": 1228800, "errors": 3,
                                "ber": 3 / 1228800, "sync_losses": 0, "pattern": "2^15-1"}
    bus.replies["span.loopback"] = {"span": 0, "mode": "line"}
    sup = login_as("supervisor")
    page = sup.get("/diagnostics").text
    assert "E1 0 is up" in page and "E1 1 is DOWN" in page and "Receiver has LOF, LOS." in page
    assert "rx:fas_errors" in page and "2^15-1, in sync, 1228800 bits, 3 errors, BER 2.44e-06" in page
    assert "/diagnostics/loopback" not in page, "supervisors get no loopback form"
    assert sup.post("/diagnostics/loopback", {"span": "0", "mode": "line", "confirm": "yes"}).status == 403
    assert login_as("agent").get("/diagnostics").status == 403
    admin = login_as("admin")
    tok = admin.csrf_token("/diagnostics")
    r = admin.post("/diagnostics/loopback", {"span": "0", "mode": "line"}, csrf=tok)
    assert r.status == 400 and "drops its calls" in r.text and ("span.loopback", {"span": 0, "mode": "line"}) \
        not in bus.args
    assert admin.post("/diagnostics/loopback", {"span": "0", "mode": "line", "confirm": "yes"}, csrf=tok).status == 303
    assert ("span.loopback", {"span": 0, "mode": "line"}) in bus.args
    assert admin.post("/diagnostics/loopback", {"span": "0", "mode": "off"}, csrf=tok).status == 303
    for form, words in (({"span": "x", "mode": "off"}, "not a span number"), ({"span": "0", "mode": "remote"},
                                                                              "not one of")):
        r = admin.post("/diagnostics/loopback", form, csrf=tok)
        assert r.status == 400 and words in r.text
    assert admin.post("/diagnostics/bert", {"span": "0", "action": "start", "pattern": "20", "inverted": "yes"},
                      csrf=tok).status == 303
    assert ("span.bert", {"span": 0, "action": "start", "pattern": 20, "inverted": True}) in bus.args
    r = admin.post("/diagnostics/bert", {"span": "0", "action": "start", "pattern": "7"}, csrf=tok)
    assert r.status == 400 and "pattern" in r.text
    assert admin.post("/diagnostics/bert", {"span": "0", "action": "insert"}, csrf=tok).status == 303
    assert admin.post("/diagnostics/bert", {"span": "0", "action": "stop"}, csrf=False).status == 403
    actions = [r["action"] for r in store.query("SELECT action FROM audit WHERE action LIKE 'span.%'")]
    assert actions.count("span.loopback") == 2 and actions.count("span.bert") == 2
