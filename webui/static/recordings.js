// Recordings page: one <video> plays a day of continuous segments as one timeline.
// Each segment is its own MP4 (about a minute); at `ended` the player loads the next one, and a moment
// of the day is reached by loading the segment that holds it and seeking by its offset. H.265 footage
// plays as is where the browser decodes HEVC, else through each segment's H.264 rendition.
(function () {
  "use strict";

  var HEVC_TYPE = 'video/mp4; codecs="hvc1.1.6.L93.B0"';

  function setup(box) {
    var segs = JSON.parse(box.getAttribute("data-segments"));
    var video = document.getElementById("recording");
    var clock = document.getElementById("recording-clock");
    var note = document.getElementById("recording-note");
    var cursor = document.getElementById("recording-cursor");
    var bar = document.getElementById("recording-bar");
    var download = document.getElementById("recording-download");
    var t0 = parseFloat(box.getAttribute("data-bar-t0"));
    var t1 = parseFloat(box.getAttribute("data-bar-t1"));
    var barW = parseFloat(box.getAttribute("data-bar-w"));
    var dayStart = parseFloat(box.getAttribute("data-day-start"));
    var useAlt = box.getAttribute("data-hevc") === "1" && !video.canPlayType(HEVC_TYPE);
    var format = new Intl.DateTimeFormat("en-GB", {timeZone: box.getAttribute("data-tz"), hour: "2-digit",
                                                    minute: "2-digit", second: "2-digit", hourCycle: "h23"});
    var current = -1;
    var pending = null;  // {offset, play}: applied once the new segment's metadata is in

    function find(t) {  // the segment holding t, else the first one after it (-1: none)
      for (var i = 0; i < segs.length; i++) {
        if (t < segs[i].end) { return i; }
      }
      return -1;
    }

    function load(i, offset, play) {
      pending = {offset: offset, play: play};
      if (i !== current) {
        current = i;
        box.setAttribute("data-segment", segs[i].id);
        video.src = useAlt ? segs[i].alt : segs[i].src;
        download.href = segs[i].src + "?download=1";
        download.hidden = false;
        video.load();
      } else if (video.readyState >= 1) {
        apply();
      }
    }

    function apply() {
      if (!pending) { return; }
      var p = pending;
      pending = null;
      video.currentTime = Math.max(0, p.offset);
      if (p.play) { video.play().catch(function () { /* autoplay refused: the controls are there */ }); }
    }

    function seekTo(t, play) {
      var i = find(t);
      if (i < 0) { note.textContent = box.getAttribute("data-none-text"); return; }
      note.textContent = t < segs[i].start ? box.getAttribute("data-gap-text") : "";
      load(i, Math.max(0, t - segs[i].start), play);
    }

    function position() {
      return current < 0 ? null : segs[current].start + video.currentTime;
    }

    video.addEventListener("loadedmetadata", apply);
    video.addEventListener("error", function () {  // a segment removed since the page loaded: go on with the next
      note.textContent = box.getAttribute("data-error-text");
      if (current + 1 < segs.length) { load(current + 1, 0, true); }
    });
    video.addEventListener("ended", function () {
      if (current + 1 < segs.length) { load(current + 1, 0, true); }
    });
    video.addEventListener("timeupdate", function () {
      var t = position();
      if (t === null) { return; }
      box.setAttribute("data-position", t.toFixed(3));
      clock.textContent = format.format(new Date(t * 1000));
      cursor.setAttribute("x", String((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0) * barW - 1));
    });
    bar.addEventListener("click", function (e) {
      var rect = bar.getBoundingClientRect(), vb = bar.viewBox.baseVal;
      var u = vb.x + (e.clientX - rect.left) / rect.width * vb.width;  // SVG units; the bar is 0..barW
      seekTo(near(t0 + Math.min(Math.max(u, 0), barW) / barW * (t1 - t0), (t1 - t0) / Math.min(barW, rect.width)), true);
    });

    function near(t, tol) {  // a click in a gap within tol seconds of footage (a short recording is drawn at least a unit wide) means that footage
      var i = find(t);
      if (i >= 0 && t >= segs[i].start) { return t; }
      var before = i < 0 ? segs.length - 1 : i - 1;
      if (before >= 0 && t - segs[before].end <= tol) { return Math.max(segs[before].start, segs[before].end - 1); }
      if (i >= 0 && segs[i].start - t <= tol) { return segs[i].start; }
      return t;
    }
    document.getElementById("recording-seek").addEventListener("submit", function (e) {
      e.preventDefault();
      var parts = document.getElementById("recording-at").value.split(":");
      var s = parseInt(parts[0], 10) * 3600 + parseInt(parts[1], 10) * 60 + (parseInt(parts[2], 10) || 0);
      seekTo(dayStart + s, true);  // the site's day start: no daylight saving in Vietnam
    });
    var at = box.getAttribute("data-at");
    seekTo(at ? parseFloat(at) : segs[0].start, false);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("recording-player");
    if (box) { setup(box); }
  });
})();
