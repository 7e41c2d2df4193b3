#!/bin/sh
# Buildroot post-build: $1 = target dir, $2 = the board directory.
# Puts the development signing certificate into the keyring, the version into /etc, and
# makes the root filesystem read-only with tmpfs for what must change.
set -eu
TARGET=$1
BOARD=$2
KEYDIR=${CALLBOX_KEY_DIR:-$BASE_DIR/callbox-keys}

if [ ! -f "$KEYDIR/dev.cert.pem" ]; then
	# the development key is made here, at build time, and never committed
	mkdir -p "$KEYDIR"
	openssl req -x509 -newkey rsa:4096 -nodes -days 3650 -subj "/O=CallBox/CN=CallBox development" \
		-keyout "$KEYDIR/dev.key.pem" -out "$KEYDIR/dev.cert.pem"
fi
install -D -m 0644 "$KEYDIR/dev.cert.pem" "$TARGET/etc/rauc/keyring.pem"
git -C "$BR2_EXTERNAL_CALLBOX_PATH/.." describe --always --dirty 2>/dev/null > "$TARGET/etc/callbox-version" || \
	echo unknown > "$TARGET/etc/callbox-version"
grep -q '^tmpfs /tmp' "$TARGET/etc/fstab" || echo 'tmpfs /tmp tmpfs mode=1777,size=64m 0 0' >> "$TARGET/etc/fstab"
# bundles are accepted only for this board: compatible=callbox-<board directory name>
sed -i "s/^compatible=.*/compatible=callbox-$(basename "$BOARD")/" "$TARGET/etc/rauc/system.conf"
if [ -f "$BOARD/rauc-bootloader" ]; then
	sed -i "s/^bootloader=.*/bootloader=$(cat "$BOARD/rauc-bootloader")/" "$TARGET/etc/rauc/system.conf"
fi
if [ -f "$BOARD/pinmap.json" ]; then
	install -D -m 0644 "$BOARD/pinmap.json" "$TARGET/etc/callbox/pinmap.json"
fi
