"""The appliance image's board and Buildroot files: references resolve, scripts parse, the
genimage layout really builds a disk with boot, two root slots and /data, RAUC's slots match."""
import configparser
import json
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIGS = os.path.join(ROOT, "buildroot", "configs")


def defconfigs():
    return sorted(os.path.join(CONFIGS, f) for f in os.listdir(CONFIGS) if f.endswith("_defconfig"))


def test_there_is_an_emulated_and_an_arm_board():
    names = [os.path.basename(p) for p in defconfigs()]
    assert "callbox_qemu_x86_64_defconfig" in names
    arm = [p for p in defconfigs() if "BR2_aarch64=y" in open(p).read() or "BR2_arm=y" in open(p).read()]
    assert arm, "at least one real ARM board"


@pytest.mark.parametrize("path", defconfigs(), ids=os.path.basename)
def test_defconfig_lines_and_board_files_exist(path):
    text = open(path).read()
    for n, line in enumerate(text.splitlines(), 1):
        assert re.match(r'^BR2_[A-Za-z0-9_]+=(y|"[^"]*"|[0-9]+)$', line), "%s:%d: %r" % (path, n, line)
        assert not line.endswith("=n"), "savedefconfig never writes =n (%s:%d)" % (path, n)
    assert "BR2_PACKAGE_CALLBOX=y" in text and "BR2_PACKAGE_RAUC=y" in text
    for ref in re.findall(r"\$\(BR2_EXTERNAL_CALLBOX_PATH\)/\.\./([^\s\"]+)", text):
        assert os.path.exists(os.path.join(ROOT, ref)), "%s refers to missing %s" % (os.path.basename(path), ref)
    board = re.search(r'BR2_ROOTFS_POST_SCRIPT_ARGS=".*/board/([^"/]+)"', text).group(1)
    assert os.path.exists(os.path.join(ROOT, "board", board, "genimage.cfg"))


def test_kernel_fragment_has_watchdog_gpio_filesystems_and_verity():
    frag = open(os.path.join(ROOT, "board", "common", "linux.fragment")).read()
    for opt in ("CONFIG_WATCHDOG=y", "CONFIG_GPIO_CDEV=y", "CONFIG_SQUASHFS=y", "CONFIG_EXT4_FS=y",
                "CONFIG_DM_VERITY=y"):
        assert opt in frag


def test_shell_scripts_parse():
    scripts = [os.path.join(ROOT, "board", "common", f) for f in ("post-build.sh", "post-image.sh")] + [
        os.path.join(ROOT, "board", "common", "rootfs-overlay", "etc", "init.d", "S90callbox"),
        os.path.join(ROOT, "board", "common", "rootfs-overlay", "usr", "libexec", "callbox", "health-check")]
    for s in scripts:
        assert os.access(s, os.X_OK), "%s is not executable" % s
        r = subprocess.run(["sh", "-n", s], capture_output=True, text=True)
        assert r.returncode == 0, (s, r.stderr)


def test_rauc_slots_match_the_disk_layout():
    cp = configparser.ConfigParser()
    cp.read(os.path.join(ROOT, "board", "common", "rootfs-overlay", "etc", "rauc", "system.conf"))
    assert cp["system"]["compatible"] == "callbox" and cp["keyring"]["path"] == "/etc/rauc/keyring.pem"
    assert cp["system"]["statusfile"].startswith("/data/")
    slots = {cp[s]["bootname"]: cp[s]["device"] for s in cp.sections() if s.startswith("slot.rootfs")}
    assert slots == {"A": "/dev/disk/by-partlabel/rootfs-a", "B": "/dev/disk/by-partlabel/rootfs-b"}
    layout = open(os.path.join(ROOT, "board", "qemu-x86_64", "genimage.cfg")).read()
    assert "partition rootfs-a" in layout and "partition rootfs-b" in layout and "partition data" in layout


def test_no_private_key_is_committed():
    for base, _, files in os.walk(os.path.join(ROOT, "board")):
        for f in files:
            assert "PRIVATE KEY" not in open(os.path.join(base, f), errors="replace").read(), f


def test_pin_map_names_leds_liu_resets_and_watchdog():
    pins = json.load(open(os.path.join(ROOT, "board", "rpi4", "pinmap.json")))
    assert pins["leds"] and pins["liu_reset"] and pins["watchdog"] == "/dev/watchdog"
    lines = list(pins["leds"].values()) + list(pins["liu_reset"].values())
    assert len(lines) == len(set(lines)), "a GPIO line is used twice"


def test_grub_ab_script_is_valid():
    if not shutil.which("grub-script-check"):
        pytest.skip("needs Debian package grub-common (grub-script-check)")
    r = subprocess.run(["grub-script-check", os.path.join(ROOT, "board", "qemu-x86_64", "grub.cfg")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_genimage_builds_the_emulated_disk(tmp_path):
    missing = [(t, p) for t, p in (("genimage", "genimage"), ("mkfs.ext4", "e2fsprogs"), ("mkdosfs", "dosfstools"),
                                   ("mcopy", "mtools"), ("sfdisk", "fdisk")) if not shutil.which(t)]
    if missing:
        pytest.skip("needs Debian packages: %s" % ", ".join(p for _, p in missing))
    images = tmp_path / "images"
    (images / "efi-part" / "EFI" / "BOOT").mkdir(parents=True)
    (images / "efi-part" / "EFI" / "BOOT" / "BOOTX64.EFI").write_bytes(b"\0" * 1024)
    (images / "grub.cfg").write_text("# test\n")
    (images / "grubenv").write_text("# GRUB Environment Block\n" + "#" * 994)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "callbox-version").write_text("test\n")
    subprocess.run(["mkfs.ext4", "-q", "-d", str(root), "-L", "rootfs", str(images / "rootfs.ext4"), "16M"], check=True)
    r = subprocess.run(["genimage", "--rootpath", str(root), "--tmppath", str(tmp_path / "gtmp"),
                        "--inputpath", str(images), "--outputpath", str(images),
                        "--config", os.path.join(ROOT, "board", "qemu-x86_64", "genimage.cfg")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    table = json.loads(subprocess.run(["sfdisk", "--json", str(images / "disk.img")], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    assert table["label"] == "gpt"
    names = [p.get("name") for p in table["partitions"]]
    assert names == ["boot", "rootfs-a", "rootfs-b", "data"]
    sizes = {p["name"]: p["size"] * 512 for p in table["partitions"]}
    assert sizes["rootfs-a"] == sizes["rootfs-b"] == 16 * 2 ** 20 and sizes["data"] == 256 * 2 ** 20
