"""E1 TS16 CAS: ABCD bits through framer, raw bits and deframer; multiframe alignment, debounce,
the remote multiframe alarm, LOMF and bad input."""
import pytest

from callbox.line import Cas, E1Rx, E1Tx

BLOCK = 160


def link():
    return Cas(), E1Tx(crc4=True), E1Rx(crc4=True), Cas()


def send(cas_tx, tx, rx, cas_rx, blocks=4, payload=b"\x55"):
    for _ in range(blocks):
        frames = bytearray(payload * 32 * BLOCK)
        cas_tx.insert(frames)
        cas_rx.extract(rx.deframe(tx.frame(frames)))


def test_abcd_of_every_channel_arrives_after_two_multiframes():
    ct, tx, rx, cr = link()
    for ch in range(1, 31):
        ct.set_tx(ch, ch % 15 + 1)
    assert cr.rx(1) is None
    send(ct, tx, rx, cr)
    assert cr.status()["aligned"] and not cr.status()["lomf"]
    assert [cr.rx(ch) for ch in range(1, 31)] == [ch % 15 + 1 for ch in range(1, 31)]
    # a change is taken once it has been seen in two multiframes in a row
    ct.set_tx(7, 0b0011)
    send(ct, tx, rx, cr, blocks=1)
    assert cr.rx(7) == 0b0011


def test_remote_multiframe_alarm_and_loss_of_multiframe():
    ct, tx, rx, cr = link()
    ct.set_remote_alarm(True)
    send(ct, tx, rx, cr)
    assert cr.status()["remote_mf_alarm"]
    for _ in range(2):                                   # TS16 all zero for a whole multiframe
        cr.extract(rx.deframe(tx.frame(bytearray(32 * BLOCK))))
    assert cr.status()["lomf"] and not cr.status()["aligned"]
    send(ct, tx, rx, cr)
    st = cr.status()
    assert st["aligned"] and st["realignments"] == 2


def test_bad_input():
    c = Cas()
    with pytest.raises(ValueError, match="0000 is not allowed"):
        c.set_tx(1, 0)
    with pytest.raises(ValueError, match="channel 31"):
        c.set_tx(31, 9)
    with pytest.raises(ValueError, match="whole number"):
        c.insert(bytearray(33))
