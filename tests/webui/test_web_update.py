"""Firmware update from the System page: upload, check, install to the other slot, progress."""
import json
import os
import shutil
import time

import pytest

from boxutil import make_bundle_module, multipart

NEEDS = {"rauc": "rauc", "mksquashfs": "squashfs-tools", "mkfs.ext4": "e2fsprogs", "openssl": "openssl"}
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in NEEDS),
                                reason="needs Debian packages %s" % ", ".join(sorted(set(NEEDS.values()))))


def _upload(c, data, name="callbox-qemu-x86_64-3.0.0.raucb"):
    body, ctype = multipart({"csrf_token": c.csrf_token("/system")}, {"file": (name, data)})
    return c.request("POST", "/system/update", body=body, headers={"Content-Type": ctype})


def _wait_done(c):
    end = time.monotonic() + 60
    while time.monotonic() < end:
        st = c.get("/api/update").json()
        if st["state"] not in ("receiving", "checking"):
            return st
        time.sleep(0.1)
    raise AssertionError("the update did not finish")


def test_upload_installs_a_signed_bundle_and_refuses_a_foreign_one(admin, login_as, data_dir, store, tmp_path):
    mb = make_bundle_module()
    keys = str(tmp_path / "keys")
    good = mb.make("qemu-x86_64", str(tmp_path / "b"), keys, "3.0.0", say=lambda m: None)
    k2, c2 = mb.dev_key(str(tmp_path / "other"), lambda m: None)
    foreign = mb.make("qemu-x86_64", str(tmp_path / "f"), keys, "3.0.1", key=k2, cert=c2, say=lambda m: None)
    with open(os.path.join(str(data_dir), "update.json"), "w") as f:
        json.dump({"compatible": "callbox-qemu-x86_64", "keyring": os.path.join(keys, "dev.cert.pem")}, f)

    assert login_as("supervisor").get("/api/update").status == 403
    r = _upload(admin, open(foreign, "rb").read())
    assert r.status == 303 and r.location.endswith("/system/update")
    st = _wait_done(admin)
    assert st["state"] == "failed" and "not signed by a key this box trusts" in st["error"]
    assert "no update waiting" in st["slots"]
    r = _upload(admin, open(good, "rb").read())
    st = _wait_done(admin)
    assert st["state"] == "done" and st["version"] == "3.0.0" and st["percent"] == 100, st
    assert "next boot: slot B with 3.0.0 (pending" in st["slots"]
    page = admin.get("/system/update").text
    assert "3.0.0" in page and "/static/update.js" in page
    assert "slot B with 3.0.0" in admin.get("/system").text
    assert not os.path.exists(os.path.join(str(data_dir), "updates", "upload.raucb")), "the upload was kept"
    audit = [r["detail"] for r in store.query("SELECT detail FROM audit WHERE action='firmware.update'")]
    assert any(d.startswith("refused: the bundle is not signed") for d in audit)
    assert any(d.startswith("installed 3.0.0") for d in audit)
    # without a file, and without the CSRF token
    body, ctype = multipart({"csrf_token": admin.csrf_token("/system")}, {})
    assert admin.request("POST", "/system/update", body=body, headers={"Content-Type": ctype}).status == 400
    body, ctype = multipart({}, {"file": ("x.raucb", open(good, "rb").read())})
    assert admin.request("POST", "/system/update", body=body, headers={"Content-Type": ctype}).status == 403
