#!/bin/sh
# Buildroot post-image: $1 = images dir, $2 = the board directory.
# Lays out the disk image with genimage, then writes its checksum and block map so installers
# can verify and flash it quickly (bmaptool), and the signed update bundle (make bundle).
set -eu
IMAGES=$1
BOARD=$2
GENIMAGE_TMP=$BUILD_DIR/genimage.tmp

[ -f "$BOARD/grub.cfg" ] && cp "$BOARD/grub.cfg" "$IMAGES/grub.cfg"
if [ -f "$BOARD/grub.cfg" ] && [ ! -f "$IMAGES/grubenv" ]; then
	grub-editenv "$IMAGES/grubenv" create
	grub-editenv "$IMAGES/grubenv" set ORDER="A B" A_OK=1 B_OK=0 A_TRY=0 B_TRY=0
fi
if [ -f "$BOARD/boot.cmd" ]; then
	mkimage -C none -A arm64 -T script -d "$BOARD/boot.cmd" "$IMAGES/boot.scr"
fi
rm -rf "$GENIMAGE_TMP"
genimage --rootpath "$TARGET_DIR" --tmppath "$GENIMAGE_TMP" --inputpath "$IMAGES" --outputpath "$IMAGES" \
	--config "$BOARD/genimage.cfg"
for img in "$IMAGES"/disk.img "$IMAGES"/sdcard.img; do
	[ -f "$img" ] || continue
	(cd "$IMAGES" && sha256sum "$(basename "$img")" > "$(basename "$img").sha256")
	if command -v bmaptool >/dev/null; then
		bmaptool create -o "$img.bmap" "$img"
	fi
done
