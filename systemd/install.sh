#!/bin/sh
# Install gsmbridge as a systemd service: binary, unit, udev rules, the
# serial drivers loaded at boot, and an example configuration.
#
#   systemd/install.sh [BINARY]
#
# BINARY defaults to a fresh `go build` of ./cmd/gsmbridge. With DESTDIR set
# everything lands under $DESTDIR instead of / and the steps that change the
# running system (user creation, chown, udev and systemd reloads) are skipped,
# so packaging and tests can stage a tree without root.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
destdir=${DESTDIR:-}

case $# in
0) binary= ;;
1) binary=$1 ;;
*)
	echo "usage: $0 [BINARY]" >&2
	exit 2
	;;
esac

if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
	echo "$0: run as root, or set DESTDIR to stage the files" >&2
	exit 1
fi

if [ -z "$binary" ]; then
	build=$(mktemp -d)
	trap 'rm -rf "$build"' EXIT
	(cd "$repo" && go build -trimpath -o "$build/gsmbridge" ./cmd/gsmbridge)
	binary=$build/gsmbridge
fi
if [ ! -x "$binary" ]; then
	echo "$0: $binary is not an executable" >&2
	exit 1
fi

# The unit runs as this user; dialout owns the modems' ttys.
if [ -z "$destdir" ] && ! getent passwd gsmbridge >/dev/null; then
	useradd --system --user-group --no-create-home --home-dir /var/lib/gsmbridge \
		--shell /usr/sbin/nologin -G dialout gsmbridge
fi

install -D -m 0755 "$binary" "$destdir/usr/local/bin/gsmbridge"
install -D -m 0644 "$repo/systemd/gsmbridge.service" "$destdir/etc/systemd/system/gsmbridge.service"
install -D -m 0644 "$repo/systemd/99-gsmbridge.rules" "$destdir/etc/udev/rules.d/99-gsmbridge.rules"
install -D -m 0644 "$repo/systemd/README.md" "$destdir/usr/local/share/doc/gsmbridge/README.md"

# DeviceAllow=char-ttyUSB/char-ttyACM is resolved when the service starts;
# a driver loaded only when the first modem is plugged in would be too late.
install -d -m 0755 "$destdir/etc/modules-load.d"
printf '# gsmbridge: serial drivers of USB GSM modems, loaded before the service starts\noption\ncdc_acm\n' \
	>"$destdir/etc/modules-load.d/gsmbridge.conf"
chmod 0644 "$destdir/etc/modules-load.d/gsmbridge.conf"

# The configuration holds API token hashes and webhook secrets: readable by
# the service's group, writable by root only. An existing file is never
# overwritten.
install -d -m 0750 "$destdir/etc/gsmbridge"
config=$destdir/etc/gsmbridge/config.yaml
if [ ! -e "$config" ]; then
	install -m 0640 "$repo/internal/config/example.yaml" "$config"
	created_config=yes
else
	created_config=no
fi

if [ -n "$destdir" ]; then
	echo "staged under $destdir"
	exit 0
fi

chown root:gsmbridge /etc/gsmbridge
if [ "$created_config" = yes ]; then
	chown root:gsmbridge "$config"
fi
udevadm control --reload
udevadm trigger --subsystem-match=tty --action=add
systemctl daemon-reload

cat <<EOF
gsmbridge installed.
  1. edit /etc/gsmbridge/config.yaml (modems, auth.tokens; data_dir stays /var/lib/gsmbridge)
  2. check it:   sudo -u gsmbridge /usr/local/bin/gsmbridge check-config /etc/gsmbridge/config.yaml
  3. start it:   systemctl enable --now gsmbridge
  4. watch it:   journalctl -u gsmbridge -f
EOF
