"""O.151 PRBS: period, run lengths (polarity), error counting, sync."""
import pytest

from callbox.line import Prbs


def bits_of(data):
    return "".join(format(b, "08b") for b in data)


@pytest.mark.parametrize("order", [11, 15])
def test_period_is_2_to_the_order_minus_1(order):
    period = 2 ** order - 1
    s = bits_of(Prbs(order).generate((3 * period) // 8 + 8))
    assert s[:period] == s[period:2 * period]
    assert s[:1000] != s[1:1001]


def test_non_inverted_2_15_has_15_ones_and_14_zeros_at_most():
    s = bits_of(Prbs(15).generate(2 * 32767 // 8))
    assert "1" * 15 in s and "1" * 16 not in s
    assert "0" * 14 in s and "0" * 15 not in s
    inv = bits_of(Prbs(15, inverted=True).generate(2 * 32767 // 8))
    assert "0" * 15 in inv and "1" * 15 not in inv


@pytest.mark.parametrize("order", [11, 15, 20, 23])
def test_clean_link_zero_errors_and_inserted_errors_counted_exactly(order):
    tx, rx = Prbs(order), Prbs(order)
    for _ in range(10):
        rx.check(tx.generate(256))
    st = rx.stats()
    assert st["synced"] and st["errors"] == 0 and st["bits"] > 10 * 256 * 8 - 200
    for _ in range(7):
        tx.insert_error()
        rx.check(tx.generate(256))
    assert rx.stats()["errors"] == 7


def test_checker_finds_sync_at_any_point_and_wrong_polarity_never_syncs():
    tx = Prbs(15)
    tx.generate(12345)
    rx = Prbs(15)
    assert rx.check(tx.generate(4096))["synced"]
    wrong = Prbs(15, inverted=True)
    assert not wrong.check(Prbs(15).generate(4096))["synced"]


def test_sync_lost_on_garbage_and_found_again():
    import random
    tx, rx = Prbs(15), Prbs(15)
    rx.check(tx.generate(1024))
    rng = random.Random(1)
    rx.check(bytes(rng.randrange(256) for _ in range(1024)))
    assert rx.stats()["sync_losses"] >= 1
    rx.reset_stats()
    rx.check(tx.generate(2048))
    st = rx.stats()
    assert st["synced"] and st["errors"] == 0


def test_bad_order():
    with pytest.raises(ValueError, match="11, 15, 20, 23"):
        Prbs(9)
