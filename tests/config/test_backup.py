"""Configuration backup and restore: a round trip, and a bad file replaces nothing."""
import copy

import pytest

from callbox.auth import hash_password
from callbox.config.defaults import seed_simulation
from callbox.config.store import Store
from callbox.errors import ConfigError


@pytest.fixture
def st(tmp_path):
    s = Store(str(tmp_path / "a"))
    seed_simulation(s, spans=2, seats=3)
    s.put_queue({"name": "vip", "strategy": "ring-all", "skills": {"zh": 2}, "callback_key": "1"})
    s.put_route("*", "queue:vip", ani="139*", priority=10)
    s.execute("INSERT INTO users(username, pw_hash, role) VALUES('root', ?, 'admin')",
              (hash_password("0123456789abc", iterations=1000),))
    s.set_setting("network", {"address": "192.0.2.5/24"})
    yield s
    s.close()


def test_round_trip_into_an_empty_box(st, tmp_path):
    b = st.backup()
    other = Store(str(tmp_path / "b"))
    other.restore(b)
    again = other.backup()
    for section in ("spans", "seats", "agents", "ivr_flows", "users", "settings"):
        assert again[section] == b[section], section
    assert [(q["name"], q["strategy"], q["settings"]) for q in again["queues"]] == \
        [(q["name"], q["strategy"], q["settings"]) for q in b["queues"]]
    assert [(r["dnis"], r["ani"], r["target"], r["priority"]) for r in again["routes"]] == \
        [(r["dnis"], r["ani"], r["target"], r["priority"]) for r in b["routes"]]
    other.close()


@pytest.mark.parametrize("mutate, msg", [
    (lambda b: b.update(format="zip"), "not a CallBox configuration backup"),
    (lambda b: b.pop("queues"), "backup.queues: missing"),
    (lambda b: b["queues"][0].update(strategy="fastest"), "backup.queues\\[0\\]"),
    (lambda b: b["spans"][1].update(framing="crc5"), "backup.spans\\[1\\]"),
    (lambda b: b["ivr_flows"][0]["flow"].update(start="nowhere"), "backup.ivr_flows\\[0\\]"),
    (lambda b: b["routes"][0].update(target="mars:1"), "backup.routes\\[0\\]"),
    (lambda b: b.update(users=[u for u in b["users"] if u["role"] != "admin"]), "no admin user"),
    (lambda b: b["users"][0].update(pw_hash="plaintext"), "backup.users\\[0\\]"),
])
def test_a_bad_backup_replaces_nothing(st, mutate, msg):
    before = st.backup()
    bad = copy.deepcopy(before)
    mutate(bad)
    with pytest.raises(ConfigError, match=msg):
        st.restore(bad)
    after = st.backup()
    after["made"] = before["made"]
    assert after == before
