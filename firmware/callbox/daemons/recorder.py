"""callbox-recorder: writes every call's recording and keeps the recording index."""
import asyncio
import logging
import os

from callbox.bus import socket_path
from callbox.bus.client import AsyncBusClient
from callbox.bus.server import BusServer
from callbox.config.store import Store
from callbox.daemons import common
from callbox.recorder.recorder import Recorder

log = logging.getLogger("callbox.recorder")


async def amain(args, stop):
    store = Store(args.data_dir)
    server = BusServer(socket_path(args.run_dir, "recorder"), "recorder")
    rec = Recorder(store, os.path.join(args.data_dir, "recordings"), server.publish,
                   min_free_mb=float(os.environ.get("CALLBOX_REC_MIN_FREE_MB", "200")))
    rec.recover_all()

    def on_event(topic, data):
        if topic == "media.rec":
            rec.blocks(data["tick"], data["b"])
        elif topic == "media.rec.open":
            rec.start(data["call_id"], data.get("t"), data.get("tick", 0))
        elif topic == "media.rec.close":
            rec.stop(data["call_id"])

    media = AsyncBusClient(socket_path(args.run_dir, "media"), "recorder", on_event, topics=["media.rec"])
    server.handle("rec.status", lambda a: rec.status(), "Open recordings, counters, free space")
    async def retention():
        while not stop.is_set():
            try:
                rec.prune(float(store.get_setting("recordings.retention_days", 0) or 0))
            except Exception:
                log.exception("recorder: applying the retention rule failed")
            try:
                await asyncio.wait_for(stop.wait(), 3600)
            except asyncio.TimeoutError:
                pass

    await server.start()
    media.start()
    pruner = asyncio.ensure_future(retention())
    await stop.wait()
    pruner.cancel()
    rec.close_all()
    await media.close()
    await server.close()
    store.close()


def main():
    args = common.parser("recorder", __doc__).parse_args()
    common.run("recorder", amain, args)


if __name__ == "__main__":
    main()
