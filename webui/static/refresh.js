// Reload the inner HTML of every [data-refresh-url] element every data-refresh-ms milliseconds.
// When the session has ended (the request is redirected to the login page) the whole page reloads,
// so the login form is shown; on a network error the old content stays and is marked stale.
(function () {
  "use strict";

  function watch(box) {
    var url = box.getAttribute("data-refresh-url");
    var every = parseInt(box.getAttribute("data-refresh-ms"), 10) || 5000;

    function tick() {
      if (document.hidden) { setTimeout(tick, every); return; }
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (r.redirected || r.status === 401 || r.status === 403) { window.location.reload(); return null; }
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.text();
        })
        .then(function (html) {
          if (html !== null) { box.innerHTML = html; box.classList.remove("stale"); }
        })
        .catch(function () { box.classList.add("stale"); })
        .then(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh-url]").forEach(watch);
  });
})();
