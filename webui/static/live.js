// Live page: reload each camera's snapshot about once a second, one request at a time per camera.
// A snapshot that fails to load (404: no picture yet, camera offline) hides the image and shows the
// "no picture" note; the next successful load shows the image again.
(function () {
  "use strict";

  function watch(img) {
    var base = img.getAttribute("data-src");
    var every = parseInt(img.getAttribute("data-refresh-ms"), 10) || 1000;
    var frame = img.closest(".frame");
    var timer = null;

    function next(delay) {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (document.hidden) { next(); return; }  // a background tab asks for nothing
        img.src = base + (base.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now();
      }, delay || every);
    }
    img.addEventListener("load", function () { frame.classList.remove("missing"); next(); });
    // no picture: ask again less often (the camera is offline or its worker not started yet)
    img.addEventListener("error", function () { frame.classList.add("missing"); next(every * 5); });
    if (img.complete) {
      if (img.naturalWidth === 0) { frame.classList.add("missing"); next(every * 5); } else { next(); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("img.live-snapshot[data-src]").forEach(watch);
  });
})();
