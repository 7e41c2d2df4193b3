"""Configuration pages: validation names the field, nothing stored on error, live apply, audit."""
from callbox.errors import BusError


def _post(c, path, data):
    return c.post(path, data, csrf=c.csrf_token(path.split("/delete")[0]))


def test_queue_is_validated_stored_applied_and_audited(admin, bus, store):
    bus.replies["acd.reload"] = {"problems": [], "restart_needed_for": []}
    r = _post(admin, "/config/queues", {"name": "vip", "strategy": "ring-all", "skills": "zh:3, vip:1",
                                        "acw_s": "30", "max_wait_s": "120", "timeout_dest": "voicemail:vip",
                                        "callback_key": "1"})
    assert r.status == 303 and "Saved+and+applied" in r.location
    row = [q for q in store.queues() if q["name"] == "vip"][0]
    kw = store.queue_settings(row)
    assert kw["strategy"] == "ring-all" and kw["skills"] == {"zh": 3, "vip": 1} and kw["acw_s"] == 30
    assert kw["timeout_dest"] == "voicemail:vip" and kw["callback_key"] == "1"
    assert "acd.reload" in bus.requests
    assert store.query("SELECT detail FROM audit WHERE action='config.change'")[0]["detail"].startswith("queue vip")
    page = admin.get("/config/queues")
    assert "vip:1, zh:3" in page.text and "ring-all" in page.text


def test_bad_queue_fields_are_named_and_nothing_is_stored(admin, store):
    before = store.queues()
    for data, msg in ((({"name": "q1", "skills": "zh"}), "skills: &#039;zh&#039; must be name:level"),
                      (({"name": "q1", "acw_s": "lots"}), "acw_s: &#039;lots&#039; is not a number"),
                      (({"name": "q1", "strategy": "fastest"}), "strategy &#039;fastest&#039; is not one of"),
                      (({"name": "bad name!"}), "queues.name"),
                      (({"name": "q1", "timeout_dest": "mars:1"}), "destination &#039;mars:1&#039;"),
                      (({"name": "q1", "overflow_s": "10", "overflow_to": "ghost"}), "overflow_to: &#039;ghost&#039;"),
                      (({"name": "q1", "callback_key": "x"}), "callback_key &#039;x&#039;")):
        r = _post(admin, "/config/queues", data)
        assert r.status == 400 and msg in r.text, (data, r.text[-600:])
    assert store.queues() == before


def test_html_in_text_fields_is_shown_as_text(admin, bus, store):
    bus.replies["acd.reload"] = {"problems": [], "restart_needed_for": []}
    r = _post(admin, "/config/agents", {"login": "2001", "name": "<img src=x onerror=alert(1)>", "skills": "en:2"})
    assert r.status == 303
    page = admin.get("/config/agents").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_agent_change_keeps_one_row_and_delete(admin, bus, store):
    bus.replies["acd.reload"] = {"problems": [], "restart_needed_for": []}
    _post(admin, "/config/agents", {"login": "2001", "name": "A", "skills": "en:2"})
    _post(admin, "/config/agents", {"login": "2001", "name": "A B", "skills": "en:5"})
    rows = [a for a in store.agents() if a["login"] == "2001"]
    assert len(rows) == 1 and rows[0]["skills"] == {"en": 5} and rows[0]["name"] == "A B"
    assert _post(admin, "/config/agents/delete", {"login": "2001"}).status == 303
    assert not [a for a in store.agents() if a["login"] == "2001"]
    assert _post(admin, "/config/agents/delete", {"login": "2001"}).status == 404


def test_routes_need_an_existing_queue_and_a_queue_in_use_cannot_be_deleted(admin, bus, store):
    bus.replies["acd.reload"] = {"problems": [], "restart_needed_for": []}
    r = _post(admin, "/config/routes", {"dnis": "*", "ani": "139*", "target": "queue:nope", "priority": "5"})
    assert r.status == 400 and "target: queue &#039;nope&#039; does not exist" in r.text
    _post(admin, "/config/queues", {"name": "vip"})
    assert _post(admin, "/config/routes", {"dnis": "*", "ani": "139*", "target": "queue:vip",
                                           "priority": "5"}).status == 303
    route = [x for x in store.routes() if x["target"] == "queue:vip"][0]
    assert (route["ani"], route["priority"]) == ("139*", 5)
    r = _post(admin, "/config/queues/delete", {"name": "vip"})
    assert r.status == 409 and "routes still send calls to it" in r.text
    r = _post(admin, "/config/routes", {"dnis": "12ab", "target": "queue:vip"})
    assert r.status == 400 and "routes.dnis" in r.text


def test_call_control_down_still_saves_and_says_so(admin, bus, store):
    bus.replies["acd.reload"] = BusError("acd.reload: the callctl daemon is not reachable")
    r = _post(admin, "/config/queues", {"name": "later"})
    assert r.status == 303 and "applies+the+change+when+it+starts" in r.location
    assert [q for q in store.queues() if q["name"] == "later"]


def test_users_are_created_with_checked_passwords_and_the_last_admin_stays(admin, store, users):
    r = _post(admin, "/config/users", {"username": "eve", "role": "agent", "password": "short", "confirm": "short"})
    assert r.status == 400 and "password: must be at least" in r.text
    r = _post(admin, "/config/users", {"username": "eve", "role": "king", "password": "x" * 12, "confirm": "x" * 12})
    assert r.status == 400 and "role: &#039;king&#039;" in r.text
    r = _post(admin, "/config/users", {"username": "eve", "role": "agent", "password": "long enough pw",
                                       "confirm": "long enough pw"})
    assert r.status == 303
    assert store.query("SELECT role FROM users WHERE username='eve'") == [{"role": "agent"}]
    me = users["admin"][0]
    r = _post(admin, "/config/users/delete", {"username": me})
    assert r.status == 409 and "your own account" in r.text


def test_only_admins_configure(login_as):
    for role in ("supervisor", "agent", "viewer"):
        c = login_as(role)
        assert c.get("/config/queues").status == 403
        assert c.post("/config/queues", {"name": "x"}, csrf=c.csrf_token()).status == 403


def test_trunks_are_validated_and_say_a_restart_is_needed(admin, store):
    tok = admin.csrf_token("/config/spans")
    r = admin.post("/config/spans", {"id": "3", "kind": "E1", "framing": "esf", "line_code": "hdb3",
                                     "signalling": "pri", "side": "user", "backend": "raw:///dev/e1", "enabled": "1"},
                   csrf=tok)
    assert r.status == 400 and "spans[3].framing: &#039;esf&#039; is not one of: crc4, no-crc4" in r.text
    assert not [x for x in store.spans() if x["id"] == 3]
    r = admin.post("/config/spans", {"id": "3", "kind": "T1", "framing": "esf", "line_code": "b8zs",
                                     "signalling": "pri", "side": "network", "backend": "raw:///dev/t1",
                                     "enabled": "1"}, csrf=tok)
    assert r.status == 303 and "restart" in r.location
    assert [(x["kind"], x["framing"], x["side"]) for x in store.spans() if x["id"] == 3] == [("T1", "esf", "network")]
    r = admin.post("/config/seats", {"id": "9", "backend": "nonsense"}, csrf=tok)
    assert r.status == 400 and "backend:" in r.text
    assert admin.post("/config/seats", {"id": "9", "backend": "sim://seat/9"}, csrf=tok).status == 303
    assert [s["backend"] for s in store.seats() if s["id"] == 9] == ["sim://seat/9"]


def test_sip_seat_password_is_stored_as_a_digest_secret_never_in_clear(admin, store):
    from callbox.sip.digest import ha1_for
    tok = admin.csrf_token("/config/spans")
    r = admin.post("/config/seats", {"id": "11", "backend": "sip://10 11"}, csrf=tok)
    assert r.status == 400 and "sip://&lt;user&gt;" in r.text
    r = admin.post("/config/seats", {"id": "11", "backend": "sip://1011", "sip_password": "short"}, csrf=tok)
    assert r.status == 400 and "8 to 64" in r.text
    assert not [s for s in store.seats() if s["id"] == 11], "a refused password left a half-made seat"
    r = admin.post("/config/seats", {"id": "11", "backend": "sip://1011", "sip_password": "phone-pass-11"}, csrf=tok)
    assert r.status == 303
    seat = [s for s in store.seats() if s["id"] == 11][0]
    assert seat["secret"] == ha1_for("1011", "callbox", "phone-pass-11")
    page = admin.get("/config/spans").text
    assert "phone-pass-11" not in page and seat["secret"][4:] not in page and "sip://1011" in page
    # saving without a password keeps it; a new user name clears it (the digest secret hashes the name)
    assert admin.post("/config/seats", {"id": "11", "name": "desk", "backend": "sip://1011"}, csrf=tok).status == 303
    assert [s["secret"] for s in store.seats() if s["id"] == 11] == [seat["secret"]]
    assert admin.post("/config/seats", {"id": "11", "backend": "sip://2011"}, csrf=tok).status == 303
    assert [s["secret"] for s in store.seats() if s["id"] == 11] == [""]
    assert "NOT SET" in admin.get("/config/spans").text
    r = admin.post("/config/seats", {"id": "12", "backend": "sip://2011"}, csrf=tok)
    assert r.status == 400 and "already seat 11" in r.text
    r = admin.post("/config/seats", {"id": "12", "backend": "sim://seat/12", "sip_password": "phone-pass-12"}, csrf=tok)
    assert r.status == 400 and "only SIP seats" in r.text


def test_called_number_translation_rules_are_edited_as_lines_and_checked(admin, store):
    tok = admin.csrf_token("/config/routes")
    r = admin.post("/config/routes/translations", {"rules": "^0086(\\d+)$ -> \\1\n\n^9(\\d{3})$ -> \\1"}, csrf=tok)
    assert r.status == 303
    assert store.get_setting("routing.translations") == [{"match": "^0086(\\d+)$", "replace": "\\1"},
                                                         {"match": "^9(\\d{3})$", "replace": "\\1"}]
    assert "^0086(\\d+)$ -&gt; \\1" in admin.get("/config/routes").text
    for text, words in (("^(bad -> x", "translations[0]"), ("no arrow here", "line 1"),
                        ("^1$ -> \\3", "invalid group reference")):
        r = admin.post("/config/routes/translations", {"rules": text}, csrf=tok)
        assert r.status == 400 and words in r.text
    assert len(store.get_setting("routing.translations")) == 2, "a refused edit replaced the rules"
    assert admin.post("/config/routes", {"dnis": "200", "target": "seat:2"}, csrf=tok).status == 303
    r = admin.post("/config/routes", {"dnis": "201", "target": "seat:two"}, csrf=tok)
    assert r.status == 400 and "agent:&lt;login&gt;" in r.text


def test_r2_trunks_are_e1_only_and_their_digit_count_is_validated(admin, store):
    tok = admin.csrf_token("/config/spans")
    r = admin.post("/config/spans", {"id": "4", "kind": "T1", "framing": "esf", "line_code": "b8zs",
                                     "signalling": "r2-cn", "side": "user", "backend": "raw:///dev/t1",
                                     "enabled": "1"}, csrf=tok)
    assert r.status == 400 and "spans[4].signalling: r2-cn runs on E1 spans only" in r.text
    r = admin.post("/config/spans", {"id": "4", "kind": "E1", "framing": "no-crc4", "line_code": "hdb3",
                                     "signalling": "r2-cn", "side": "user", "backend": "raw:///dev/e1",
                                     "enabled": "1"}, csrf=tok)
    assert r.status == 303
    r = admin.post("/config/r2", {"dnis_digits": "25", "ani": "1"}, csrf=tok)
    assert r.status == 400 and "MFC/R2 dnis_digits: 25 must be from 1 to 20" in r.text
    assert store.get_setting("r2", None) is None
    r = admin.post("/config/r2", {"dnis_digits": "6"}, csrf=tok)
    assert r.status == 303 and "restart" in r.location
    assert store.get_setting("r2", None) == {"dnis_digits": 6, "ani": False}
    page = admin.get("/config/spans").text
    assert 'name="dnis_digits" size="3" required value="6"' in page
    assert admin.post("/config/r2", {"dnis_digits": "7"}, csrf=False).status == 403
    assert store.get_setting("r2", None)["dnis_digits"] == 6
