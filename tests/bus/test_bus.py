"""The msgpack bus: envelope, request/response, errors, pub/sub, malformed input."""
import socket
import struct

import msgpack
import pytest

from callbox.bus import frame, owner
from callbox.bus.client import AsyncBusClient, BusClient
from callbox.bus.server import BusServer
from callbox.errors import BusProtocolError, BusRemoteError, BusTimeoutError, ConfigError


def test_frame_round_trip_in_pieces():
    data = frame.request(7, "span.status", {"span": 1}) + frame.event("span.alarm", {"x": b"\x00\xff"})
    dec = frame.FrameDecoder()
    out = []
    for i in range(len(data)):
        out += dec.feed(data[i:i + 1])
    assert [m["k"] for m in out] == ["req", "evt"]
    assert out[0]["id"] == 7 and out[0]["args"] == {"span": 1}
    assert out[1]["data"] == {"x": b"\x00\xff"}


@pytest.mark.parametrize("body,why", [
    (msgpack.packb([1, 2]), "not a map"),
    (msgpack.packb({"v": 2, "k": "req", "id": 1, "op": "x", "args": {}}), "version"),
    (msgpack.packb({"v": 1, "k": "nope", "id": 1, "op": "x"}), "kind"),
    (msgpack.packb({"v": 1, "k": "req", "id": -1, "op": "x", "args": {}}), "id"),
    (msgpack.packb({"v": 1, "k": "req", "id": 1, "op": "", "args": {}}), "op"),
    (msgpack.packb({"v": 1, "k": "req", "id": 1, "op": "x", "args": [1]}), "args"),
    (msgpack.packb({1: 2}), "msgpack"),
    (b"\xc1", "msgpack"),
])
def test_decoder_rejects_bad_envelopes(body, why):
    with pytest.raises(BusProtocolError, match=why):
        frame.FrameDecoder().feed(struct.pack(">I", len(body)) + body)


def test_decoder_rejects_oversize_length_before_reading_it():
    with pytest.raises(BusProtocolError, match="length"):
        frame.FrameDecoder().feed(struct.pack(">I", frame.MAX_FRAME + 1))


def test_owner_routes_ops_and_names_unknown_heads():
    assert owner("span.status") == "media"
    assert owner("acd.agents") == "callctl"
    with pytest.raises(ValueError, match="no daemon serves 'zz"):
        owner("zz.top")


@pytest.fixture
def server(loop_thread, tmp_path):
    srv = BusServer(str(tmp_path / "t.sock"), "test")

    def echo(args):
        return {"echo": args}

    def bad(args):
        raise ValueError("span 9 does not exist")

    def failing(args):
        raise ConfigError("disk is read-only")

    def buggy(args):
        return 1 / 0

    async def slow(args):
        import asyncio
        await asyncio.sleep(0.05)
        return "late"

    for name, fn in [("t.echo", echo), ("t.bad", bad), ("t.fail", failing), ("t.bug", buggy), ("t.slow", slow)]:
        srv.handle(name, fn)
    loop_thread.run(srv.start())
    yield srv
    loop_thread.run(srv.close())


def test_request_response_and_errors_keep_connection(server):
    with BusClient(server.path) as c:
        assert c.request("t.echo", {"a": 1}) == {"echo": {"a": 1}}
        with pytest.raises(BusRemoteError) as e:
            c.request("t.bad")
        assert e.value.code == "bad-args" and "span 9" in str(e.value)
        with pytest.raises(BusRemoteError) as e:
            c.request("t.fail")
        assert e.value.code == "failed"
        with pytest.raises(BusRemoteError) as e:
            c.request("t.bug")
        assert e.value.code == "internal"
        with pytest.raises(BusRemoteError) as e:
            c.request("t.nothing")
        assert e.value.code == "unknown-op"
        assert c.request("t.slow") == "late"
        assert c.request("bus.ping")["name"] == "test"
    assert server.counters["rx:internal_errors"] == 1


def test_malformed_frame_gets_error_and_close_server_survives(server):
    s = socket.socket(socket.AF_UNIX)
    s.connect(server.path)
    body = msgpack.packb({"v": 1, "k": "req", "id": 5, "op": "x", "args": "notamap"})
    s.sendall(struct.pack(">I", len(body)) + body)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    msgs = frame.FrameDecoder().feed(data)
    assert msgs[0]["k"] == "err" and msgs[0]["code"] == "malformed" and msgs[0]["id"] == 5
    s.close()
    garbage = socket.socket(socket.AF_UNIX)
    garbage.connect(server.path)
    garbage.sendall(b"\xff\xff\xff\xff" + b"junk")
    garbage.close()
    with BusClient(server.path) as c:
        assert c.request("t.echo", {}) == {"echo": {}}
    assert server.counters["rx:malformed"] == 2


def test_publish_subscribe_by_prefix(server, loop_thread):
    with BusClient(server.path) as c, BusClient(server.path) as other:
        c.subscribe(["span."])
        loop_thread.call(server.publish, "call.new", {"n": 0})
        loop_thread.call(server.publish, "span.alarm", {"n": 1})
        topic, data = c.wait_event(lambda t, d: True, timeout=5)
        assert (topic, data) == ("span.alarm", {"n": 1})
        with pytest.raises(BusTimeoutError):
            other.wait_event(lambda t, d: True, timeout=0.2)


def test_async_client_reconnects_after_server_restart(loop_thread, tmp_path):
    import asyncio
    path = str(tmp_path / "r.sock")
    got = []

    async def scenario():
        srv = BusServer(path, "r")
        srv.handle("r.n", lambda a: 1)
        await srv.start()
        cli = AsyncBusClient(path, "t", lambda t, d: got.append(d), topics=["r."])
        cli.start()
        assert await cli.request("r.n") == 1
        await srv.close()
        srv2 = BusServer(path, "r")
        srv2.handle("r.n", lambda a: 2)
        await srv2.start()
        for _ in range(100):
            try:
                if await cli.request("r.n", timeout=0.5) == 2:
                    break
            except Exception:
                await asyncio.sleep(0.05)
        srv2.publish("r.evt", "hello")
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.02)
        await cli.close()
        await srv2.close()

    loop_thread.run(scenario(), timeout=20)
    assert got == ["hello"]


def test_pending_request_fails_cleanly_when_server_goes_away(server, loop_thread):
    import threading
    from callbox.errors import BusError

    gate = threading.Event()

    async def never(args):
        import asyncio
        gate.set()
        await asyncio.sleep(30)

    server.handle("t.never", never)
    c = BusClient(server.path, timeout=10)
    errors = []
    t = threading.Thread(target=lambda: errors.append(pytest.raises(BusError, c.request, "t.never")))
    t.start()
    gate.wait(5)
    loop_thread.run(server.close())
    t.join(10)
    assert errors and "lost" in str(errors[0].value)
    with pytest.raises(BusError, match="closed"):
        c.request("t.echo")
