"""A real RTSP test server (GStreamer) serving MP4 files by H.264 stream copy.

Run with the *system* python (python3-gi, gir1.2-gst-rtsp-server-1.0), never the project venv:

    /usr/bin/python3 tests/rtsp_server.py --port 8554 --mount /main=main.mp4 --mount /sub=sub.mp4 [--loop]

Each client gets its own pipeline, starting at the beginning of the file and paced in real time.
With --loop the file restarts at EOS: the EOS (and the seek's flush) are dropped in front of the queue,
the demuxer seeks back to 0, and a pad offset keeps running time (so pacing and RTP time) increasing.
Prints "READY <port>" once listening; exits cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    '( filesrc location="{path}" ! qtdemux name=demux demux.video_0 ! queue name=q ! '
    "h264parse name=parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def parse_mount(text: str) -> tuple[str, Path]:
    """'/main=/path/file.mp4' -> ('/main', Path)."""
    mount, sep, path = text.partition("=")
    if not sep or not mount.startswith("/") or not path:
        raise argparse.ArgumentTypeError(f"expected /mount=/path/file.mp4, got {text!r}")
    file = Path(path).resolve()
    if not file.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {file}")
    return mount, file


def _loop_at_eos(media: GstRtspServer.RTSPMedia) -> None:
    """Make one client's pipeline restart its file at EOS instead of ending."""
    bin_ = media.get_element()
    demux = bin_.get_by_name("demux")
    pad = bin_.get_by_name("q").get_static_pad("sink")
    end_ns = [0]  # running time just past the last buffer seen: where the next lap starts

    def rewind() -> bool:
        pad.set_offset(end_ns[0])  # shifts the next lap's segment so running time continues
        demux.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)
        return False

    def on_event(_pad, info) -> Gst.PadProbeReturn:
        kind = info.get_event().type
        if kind in (Gst.EventType.FLUSH_START, Gst.EventType.FLUSH_STOP):
            return Gst.PadProbeReturn.DROP  # a flush downstream would reset the running time to 0
        if kind == Gst.EventType.EOS:
            GLib.idle_add(rewind)  # seek from the main loop, not the streaming thread
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    def on_buffer(probe_pad, info) -> Gst.PadProbeReturn:
        buf = info.get_buffer()
        end_ns[0] = probe_pad.get_offset() + buf.pts + max(buf.duration, 0)
        return Gst.PadProbeReturn.OK

    pad.add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM | Gst.PadProbeType.EVENT_FLUSH, on_event)
    pad.add_probe(Gst.PadProbeType.BUFFER, on_buffer)


def build_server(port: int, mounts: list[tuple[str, Path]], loop: bool) -> GstRtspServer.RTSPServer:
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    points = server.get_mount_points()
    for mount, path in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINE.format(path=str(path).replace('"', '\\"')))
        factory.set_shared(False)  # every client gets its own pipeline from the start of the file
        if loop:
            factory.connect("media-configure", lambda _f, media: _loop_at_eos(media))
        points.add_factory(mount, factory)
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", type=parse_mount, action="append", required=True)
    parser.add_argument("--loop", action="store_true", help="restart each file at its end, forever")
    args = parser.parse_args(argv)

    Gst.init(None)
    server = build_server(args.port, args.mount, args.loop)
    mainloop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, lambda: (mainloop.quit(), False)[1])
    print(f"READY {server.get_bound_port()}", flush=True)
    mainloop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
