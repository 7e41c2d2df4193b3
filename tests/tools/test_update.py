"""Signed updates: make_bundle's bundles, and every bad bundle refused before anything is written."""
import os
import shutil

import pytest

from boxutil import make_bundle_module
from callbox import update

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NEEDS = {"rauc": "rauc", "mksquashfs": "squashfs-tools", "mkfs.ext4": "e2fsprogs", "openssl": "openssl"}
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in NEEDS),
                                reason="needs Debian packages %s" % ", ".join(sorted(set(NEEDS.values()))))


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    mb = make_bundle_module()
    base = tmp_path_factory.mktemp("bundles")
    keys, evil_keys = str(base / "keys"), str(base / "evil")
    say = lambda m: None                                           # noqa: E731
    good = mb.make("qemu-x86_64", str(base / "good"), keys, "2.0.0", say=say)
    key, cert = mb.dev_key(evil_keys, say)
    foreign = mb.make("qemu-x86_64", str(base / "foreign"), evil_keys, "2.0.0", key=key, cert=cert, say=say)
    wrong = mb.make("rpi4", str(base / "wrong"), keys, "2.0.0", say=say)
    data = open(good, "rb").read()
    corrupt = str(base / "corrupt.raucb")
    with open(corrupt, "wb") as f:                                # one flipped byte inside the payload
        f.write(data[:20000] + bytes([data[20000] ^ 0xFF]) + data[20001:])
    truncated = str(base / "truncated.raucb")
    with open(truncated, "wb") as f:
        f.write(data[:len(data) // 2])
    junk = str(base / "junk.raucb")
    with open(junk, "wb") as f:
        f.write(b"PK\x03\x04" + os.urandom(9000))
    return {"good": good, "foreign": foreign, "wrong": wrong, "corrupt": corrupt, "truncated": truncated,
            "junk": junk, "keyring": os.path.join(keys, "dev.cert.pem"), "base": base}


def test_a_good_bundle_is_checked_then_installed_in_the_other_slot(bundles, tmp_path):
    steps = []
    slots = update.SimSlots(str(tmp_path / "slots"), bundles["keyring"])
    out = update.apply(bundles["good"], bundles["keyring"], "callbox-qemu-x86_64", str(tmp_path / "scratch"), slots,
                       lambda p, t: steps.append((p, t)))
    assert out["version"] == "2.0.0" and out["images"] == ["rootfs"]
    pcts = [p for p, _ in steps]
    assert pcts == sorted(pcts) and pcts[-1] == 100 and len(steps) >= 5, steps
    st = slots.state()
    assert st["next"] == "B" and st["slots"]["B"]["version"] == "2.0.0" and st["slots"]["B"]["state"] == "pending"
    assert os.path.getsize(os.path.join(str(tmp_path / "slots"), "B", "rootfs.ext4")) > 0
    assert os.listdir(str(tmp_path / "scratch")) == [], "the check left its scratch copy behind"


@pytest.mark.parametrize("name, words", [
    ("foreign", "not signed by a key this box trusts"),
    ("wrong", "is for 'callbox-rpi4', this box is 'callbox-qemu-x86_64'"),
    ("corrupt", "corrupted"),
    ("truncated", "truncated"),
    ("junk", "not a RAUC bundle"),
])
def test_bad_bundles_are_refused_before_anything_is_written(bundles, tmp_path, name, words):
    slots = update.SimSlots(str(tmp_path / "slots"), bundles["keyring"])
    with pytest.raises(update.UpdateError, match=words):
        update.apply(bundles[name], bundles["keyring"], "callbox-qemu-x86_64", str(tmp_path / "scratch"), slots)
    assert not os.path.exists(str(tmp_path / "slots")) and slots.state()["next"] is None
    assert not os.path.exists(str(tmp_path / "scratch")) or os.listdir(str(tmp_path / "scratch")) == []


def test_no_keyring_means_no_update(bundles, tmp_path):
    with pytest.raises(update.UpdateError, match="no keyring"):
        update.check(bundles["good"], str(tmp_path / "missing.pem"), "callbox-qemu-x86_64", str(tmp_path))


def test_box_identity_reads_rauc_system_conf_or_the_simulation_file(tmp_path):
    conf = tmp_path / "system.conf"
    conf.write_text("[system]\ncompatible=callbox-rpi4\nbootloader=uboot\n\n[keyring]\npath=/etc/rauc/keyring.pem\n")
    assert update.box_identity(str(conf)) == ("callbox-rpi4", "/etc/rauc/keyring.pem")
    (tmp_path / "update.json").write_text('{"compatible": "callbox-qemu-x86_64", "keyring": "/k.pem"}')
    assert update.box_identity(str(tmp_path / "none.conf"), str(tmp_path)) == ("callbox-qemu-x86_64", "/k.pem")
