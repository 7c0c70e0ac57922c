"""A real RTSP test server (GStreamer) serving MP4/MOV files by stream copy: H.264 or H.265 video, and
AAC or G.711 (PCMA/PCMU) audio when the file has it (ffprobe tells which).

Run with the *system* python (python3-gi, gir1.2-gst-rtsp-server-1.0), never the project venv:

    /usr/bin/python3 tests/rtsp_server.py --port 8554 --mount /main=main.mp4 --mount /sub=sub.mp4 [--loop]

Each client gets its own pipeline, starting at the beginning of the file and paced in real time.
With --loop the file restarts at EOS: the EOS (and the seek's flush) are dropped in front of the queue,
the demuxer seeks back to 0, and a pad offset keeps running time (so pacing and RTP time) increasing.
Prints "READY <port>" once listening; exits cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

VIDEO = {  # codec (ffprobe's name) -> parser and RTP payloader
    "h264": "h264parse ! rtph264pay name=pay0 pt=96 config-interval=1",
    "hevc": "h265parse ! rtph265pay name=pay0 pt=96 config-interval=1",
}
AUDIO = {
    "aac": "aacparse ! rtpmp4gpay name=pay1 pt=97",
    "pcm_alaw": "rtppcmapay name=pay1",
    "pcm_mulaw": "rtppcmupay name=pay1",
}


def file_codecs(path: Path) -> tuple[str, str | None]:
    """(video codec, audio codec or None) of the file's first streams, as ffprobe names them."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True).stdout
    streams = json.loads(out)["streams"]
    video = next(s["codec_name"] for s in streams if s["codec_type"] == "video")
    audio = next((s["codec_name"] for s in streams if s["codec_type"] == "audio"), None)
    return video, audio


def pipeline(path: Path) -> str:
    """The launch line serving the file's video (and audio) by stream copy."""
    video, audio = file_codecs(path)
    if video not in VIDEO or (audio is not None and audio not in AUDIO):
        raise argparse.ArgumentTypeError(f"{path}: cannot serve {video}/{audio}; known: {sorted(VIDEO)}, {sorted(AUDIO)}")
    location = str(path).replace('"', '\\"')
    line = f'( filesrc location="{location}" ! qtdemux name=demux demux.video_0 ! queue name=q0 ! {VIDEO[video]}'
    if audio is not None:
        line += f" demux.audio_0 ! queue name=q1 ! {AUDIO[audio]}"
    return line + " )"


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
    """Make one client's pipeline restart its file at EOS instead of ending (every branch: video, audio)."""
    bin_ = media.get_element()
    demux = bin_.get_by_name("demux")
    pads = [q.get_static_pad("sink") for name in ("q0", "q1") if (q := bin_.get_by_name(name)) is not None]
    end_ns = [0]  # running time just past the last buffer seen: where the next lap starts
    ended: set[int] = set()  # branches whose EOS of this lap was seen

    def rewind() -> bool:
        ended.clear()
        for pad in pads:
            pad.set_offset(end_ns[0])  # shifts the next lap's segment so running time continues
        demux.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)
        return False

    def on_event(probe_pad, info) -> Gst.PadProbeReturn:
        kind = info.get_event().type
        if kind in (Gst.EventType.FLUSH_START, Gst.EventType.FLUSH_STOP):
            return Gst.PadProbeReturn.DROP  # a flush downstream would reset the running time to 0
        if kind == Gst.EventType.EOS:
            ended.add(pads.index(probe_pad))
            if len(ended) == len(pads):
                GLib.idle_add(rewind)  # seek from the main loop, not the streaming thread
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    def on_buffer(probe_pad, info) -> Gst.PadProbeReturn:
        buf = info.get_buffer()
        end_ns[0] = max(end_ns[0], probe_pad.get_offset() + buf.pts + max(buf.duration, 0))
        return Gst.PadProbeReturn.OK

    for pad in pads:
        pad.add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM | Gst.PadProbeType.EVENT_FLUSH, on_event)
        pad.add_probe(Gst.PadProbeType.BUFFER, on_buffer)


def build_server(port: int, mounts: list[tuple[str, Path]], loop: bool) -> GstRtspServer.RTSPServer:
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    points = server.get_mount_points()
    for mount, path in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(pipeline(path))
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
