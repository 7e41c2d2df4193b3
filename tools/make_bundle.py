#!/usr/bin/env python3
"""Make a signed RAUC update bundle for a board (``make bundle``).

    python tools/make_bundle.py --board qemu-x86_64 [--rootfs output/images/rootfs.ext4]
        [--version 1.2.3] [--key-dir build/keys] [--out build/]

The bundle holds one image, the board's root filesystem (Buildroot's rootfs.ext4); without
``--rootfs`` a development stand-in is made: an ext4 image holding this tree's firmware,
so the update path can be exercised on a PC. Bundles are in RAUC's ``verity`` format and
signed with the development key in ``--key-dir``; the key is made there on first use
(openssl, RSA 4096) and must never be committed (build/ is ignored by git). A release is
signed with the release key instead: pass its directory (dev.key.pem, dev.cert.pem).

Needs: rauc and squashfs-tools (Debian packages), mkfs.ext4 (e2fsprogs), openssl.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BOARDS = ("qemu-x86_64", "rpi4")


def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pkgs = {"rauc": "rauc", "mksquashfs": "squashfs-tools", "mkfs.ext4": "e2fsprogs", "openssl": "openssl"}
        raise SystemExit("make_bundle: missing %s (Debian packages: %s)" % (
            ", ".join(missing), ", ".join(sorted({pkgs.get(t, t) for t in missing}))))


def dev_key(key_dir, say=print):
    """(key, cert) of the development signing key, made on first use."""
    key, cert = os.path.join(key_dir, "dev.key.pem"), os.path.join(key_dir, "dev.cert.pem")
    if not (os.path.exists(key) and os.path.exists(cert)):
        os.makedirs(key_dir, mode=0o700, exist_ok=True)
        say("making the development signing key in %s (never commit it)" % key_dir)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:4096", "-nodes", "-days", "3650",
                        "-subj", "/O=CallBox/CN=CallBox development", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        os.chmod(key, 0o600)
    return key, cert


def standin_rootfs(path):
    """A small ext4 image with this tree's firmware, standing in for Buildroot's rootfs."""
    with tempfile.TemporaryDirectory() as stage:
        for part in ("firmware", "webui"):
            shutil.copytree(os.path.join(ROOT, part), os.path.join(stage, "usr/lib/callbox", part),
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.egg-info"))
        size_mb = 8 + sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(stage) for f in fs) // 2 ** 20
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "callbox-root", "-d", stage, path, "%dM" % (size_mb * 2)],
                       check=True, capture_output=True)


def make(board, out_dir, key_dir, version, rootfs=None, compatible=None, key=None, cert=None, say=print):
    """Build and sign a bundle; returns its path."""
    need("rauc", "mksquashfs", "mkfs.ext4", "openssl")
    if key is None or cert is None:
        key, cert = dev_key(key_dir, say)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "callbox-%s-%s.raucb" % (board, version))
    with tempfile.TemporaryDirectory() as content:
        img = os.path.join(content, "rootfs.ext4")
        if rootfs:
            say("root filesystem: %s" % rootfs)
            shutil.copyfile(rootfs, img)
        else:
            say("root filesystem: development stand-in (this tree's firmware)")
            standin_rootfs(img)
        with open(os.path.join(content, "manifest.raucm"), "w") as f:
            f.write("[update]\ncompatible=%s\nversion=%s\n\n[bundle]\nformat=verity\n\n"
                    "[image.rootfs]\nfilename=rootfs.ext4\n" % (compatible or "callbox-" + board, version))
        if os.path.exists(out):
            os.unlink(out)
        say("signing and packing %s" % out)
        r = subprocess.run(["rauc", "bundle", "--cert", cert, "--key", key, content, out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("make_bundle: rauc bundle failed: %s" % (r.stderr.strip().splitlines() or ["?"])[-1])
    say("bundle: %s (%d bytes)" % (out, os.path.getsize(out)))
    return out


def git_version():
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return r.stdout.strip() or "0.0.0-dev"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--board", default="qemu-x86_64", choices=BOARDS)
    ap.add_argument("--rootfs", help="the board's root filesystem image (Buildroot output/images/rootfs.ext4)")
    ap.add_argument("--version", default=None, help="version in the manifest (default: git describe)")
    ap.add_argument("--key-dir", default=os.path.join(ROOT, "build", "keys"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build"))
    a = ap.parse_args(argv)
    if a.rootfs and not os.path.isfile(a.rootfs):
        ap.error("--rootfs %s: no such file" % a.rootfs)
    make(a.board, a.out, a.key_dir, a.version or git_version(), rootfs=a.rootfs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
