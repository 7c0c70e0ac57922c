#!/bin/sh
# Install the Debian packages onestop-monitor needs (as root), or list them for an administrator.
# mosquitto: the MQTT broker of the district hub link (issue 15) and its tests.
set -eu
# plugins-good: rtph264pay/rtph265pay, rtpmp4gpay, rtppcmapay/rtppcmupay, qtdemux, aacparse; plugins-bad: h264parse, h265parse
# systemd: systemd-analyze verifies deploy/onestop.service in the tests
PACKAGES="python3-venv openssl ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad chromium chromium-driver mosquitto systemd"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ]; then
    echo "installing system packages:$missing"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
else
    echo "onestop-monitor needs these Debian packages:$missing" >&2
    echo "install them as root:  sudo apt-get install -y$missing" >&2
    exit 1
fi
