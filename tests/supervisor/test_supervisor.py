"""Supervisor: starts children, restarts a crashed one with growing back-off, says why."""
import asyncio
import sys

from callbox.supervisor import supervisor as sup_mod
from callbox.supervisor.supervisor import Child, Supervisor, describe_exit


def test_describe_exit():
    assert describe_exit(3) == "exited with status 3"
    assert describe_exit(-9) == "killed by signal SIGKILL"


def test_crashing_child_is_restarted_with_backoff_and_reason(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(sup_mod, "BACKOFF_MIN", 0.05)
    counter = tmp_path / "n"
    script = ("import os,sys; p=%r; n=int(open(p).read()) if os.path.exists(p) else 0; "
              "open(p,'w').write(str(n+1)); sys.exit(3 if n < 2 else 0) if n < 2 else __import__('time').sleep(30)"
              % str(counter))
    steady = Child("steady", [sys.executable, "-c", "import time; time.sleep(30)"])
    crashy = Child("crashy", [sys.executable, "-c", script])
    sup = Supervisor([steady, crashy], log_dir=str(tmp_path / "log"))

    async def scenario():
        sup.start()
        for _ in range(200):
            if crashy.restarts >= 2 and crashy.state == "running":
                break
            await asyncio.sleep(0.05)
        status = {s["name"]: s for s in sup.status()}
        await sup.stop(grace=2)
        return status

    caplog.set_level("INFO")
    status = asyncio.run(scenario())
    assert status["crashy"]["restarts"] == 2
    assert status["crashy"]["last_exit"] == "exited with status 3"
    assert status["steady"]["restarts"] == 0 and status["steady"]["state"] == "running"
    assert crashy.backoff == 0.2                 # 0.05 -> 0.1 -> 0.2: it doubled each time
    assert "crashy: exited with status 3" in caplog.text
    assert steady.proc.returncode is not None    # stopped on shutdown


def test_restart_request_names_unknown_daemon():
    import pytest
    sup = Supervisor([Child("a", ["true"])])
    with pytest.raises(ValueError, match="known: a"):
        sup.restart("b")


def test_factory_reset_wipes_the_data_directory_only_when_marked(tmp_path):
    from callbox.supervisor.supervisor import factory_reset_if_marked
    data = tmp_path / "data"
    (data / "recordings" / "2026").mkdir(parents=True)
    (data / "callbox.db").write_text("db")
    (data / "recordings" / "2026" / "a.wav").write_text("x")
    assert factory_reset_if_marked(str(data)) is False and (data / "callbox.db").exists()
    (data / ".factory-reset").write_text("now")
    assert factory_reset_if_marked(str(data)) is True
    assert list(data.iterdir()) == []
