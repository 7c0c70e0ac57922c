// Zone and mask editor: polygons in normalised 0..1 coordinates drawn over the camera's picture (SVG),
// person-height markers for the selected zone, saved as JSON to the page's data-save-url.
// Three kinds of polygon: zones, detection masks ("mask") and privacy masks ("privacy"); the preview
// toggle shows the privacy masks blurred, roughly as a viewer sees them.
// No inline code: the page passes its data in <script type="application/json"> and data-* attributes.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var W = 1000;  // the SVG's width in its own units; the height follows the picture's aspect ratio
  var VERTEX_R = 7;  // in SVG units: about 7 px on a 1000 px wide picture, easy to grab with a mouse
  var MARKER_DX = 14;  // the two height markers sit this far left/right of the zone's centre line
  var MIN_POINTS = 3;
  var MIN_HEIGHT = 0.01;  // the config needs a person height above 0
  var DEFAULT_HEIGHT = [0.4, 0.25];  // a standing person near and far, as a share of the frame height
  var ORDER = ["zone", "mask", "privacy"];  // the list and the payload keep this order, as cameras.yaml does
  var PREVIEW_BLUR = 12;  // SVG units: about the server's blocks of 1/48 of the width, smoothed

  function el(name, attrs) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function round(v) { return Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000; }

  function typing(e) {  // a key pressed in a text field belongs to the field
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
  }

  function Editor(root) {
    var data = JSON.parse(document.getElementById("zone-data").textContent);
    this.root = root;
    this.text = JSON.parse(document.getElementById("zone-text").textContent);
    this.headHeightSlope = data.head_height_slope;  // the server's tiles.HEAD_HEIGHT_SLOPE
    this.bodyDrawn = data.drawn_as_body;  // the server's tiles.body_drawn_zones, as last saved
    this.coversSeats = data.covers_seats;  // [[waiting area, seat], ...]: office.seats_in_waiting_areas, as last saved
    this.svg = document.getElementById("zone-svg");
    this.img = document.getElementById("zone-picture");
    this.H = W * 9 / 16;
    this.shapes = data.zones.map(function (z) {
      return { type: "zone", id: z.id, kind: z.kind, points: z.points, person_height: z.person_height || null,
               seated: z.seated !== false };
    }).concat(data.masks.map(function (m) { return { type: "mask", points: m }; }),
      (data.privacy_masks || []).map(function (m) { return { type: "privacy", points: m }; }));
    this.selected = this.shapes.length ? 0 : -1;
    this.drawing = null;  // the shape being drawn (points added by clicks)
    this.drag = null;
    this.dirty = false;
    this.still = null;  // the picture as a data: URL for the blur preview (the snapshot URL is not cached)
    this.bind();
    this.render();
  }

  Editor.prototype.$ = function (id) { return document.getElementById(id); };

  Editor.prototype.on = function (id, event, fn) {
    var self = this;
    this.$(id).addEventListener(event, function (e) { fn.call(self, e); });
  };

  Editor.prototype.bind = function () {
    var self = this;
    var fit = function () {
      if (self.img.naturalWidth) { self.H = W * self.img.naturalHeight / self.img.naturalWidth; self.render(); }
    };
    this.img.addEventListener("load", fit);
    this.img.addEventListener("error", function () { self.say("error", self.text.no_picture); });
    if (this.img.complete) { fit(); }
    this.on("new-zone", "click", function () { this.start("zone"); });
    this.on("new-mask", "click", function () { this.start("mask"); });
    this.on("new-privacy", "click", function () { this.start("privacy"); });
    this.on("privacy-preview", "change", this.render);
    this.on("undo-point", "click", this.undo);
    this.on("finish", "click", this.finish);
    this.on("cancel", "click", this.cancel);
    this.on("delete-shape", "click", this.remove);
    this.on("save-zones", "click", this.save);
    this.on("zone-id", "input", function (e) { this.edit(function (z) { z.id = e.target.value.trim(); }); });
    this.on("zone-kind", "change", function (e) { this.edit(function (z) { z.kind = e.target.value; }); });
    this.on("zone-seated", "change", function (e) { this.edit(function (z) { z.seated = e.target.checked; }); });
    this.on("zone-calibrate", "change", function (e) {
      this.edit(function (z) { z.person_height = e.target.checked ? DEFAULT_HEIGHT.slice() : null; });
    });
    this.svg.addEventListener("pointerdown", function (e) { self.down(e); });
    window.addEventListener("pointermove", function (e) { self.move(e); });
    window.addEventListener("pointerup", function () { self.drag = null; });
    document.addEventListener("keydown", function (e) { self.key(e); });
    window.addEventListener("beforeunload", function (e) {
      if (self.dirty) { e.preventDefault(); e.returnValue = ""; }
    });
  };

  Editor.prototype.key = function (e) {  // Escape cancels, Enter finishes, Backspace/Ctrl+Z undoes, Delete removes
    var handled = true;
    if (this.drawing && e.key === "Escape") { this.cancel(); }
    else if (typing(e)) { handled = false; }
    else if (this.drawing && e.key === "Enter") { this.finish(); }
    else if (this.drawing && (e.key === "Backspace" || (e.key === "z" && (e.ctrlKey || e.metaKey)))) { this.undo(); }
    else if (!this.drawing && e.key === "Delete") { this.remove(); }
    else { handled = false; }
    if (handled) { e.preventDefault(); }
  };

  Editor.prototype.current = function () { return this.shapes[this.selected]; };

  Editor.prototype.edit = function (change) {  // change the selected zone from the side panel
    var zone = this.current();
    if (!zone || zone.type !== "zone") { return; }
    change(zone);
    this.changed();
  };

  Editor.prototype.changed = function () {
    this.dirty = true;
    this.say("", "");
    this.render();
  };

  Editor.prototype.point = function (e) {
    var box = this.svg.getBoundingClientRect();
    return [round((e.clientX - box.left) / box.width), round((e.clientY - box.top) / box.height)];
  };

  Editor.prototype.start = function (type) {
    var ids = this.shapes.map(function (s) { return s.id; }), n = 1;
    while (ids.indexOf("zone-" + n) >= 0) { n += 1; }
    this.drawing = type === "zone" ? { type: "zone", id: "zone-" + n, kind: "staff_seat", points: [], person_height: null, seated: true }
      : { type: type, points: [] };
    this.say("", "");
    this.render();
  };

  Editor.prototype.undo = function () {
    if (this.drawing) { this.drawing.points.pop(); this.render(); }
  };

  Editor.prototype.cancel = function () {
    this.drawing = null;
    this.render();
  };

  Editor.prototype.finish = function () {
    if (!this.drawing || this.drawing.points.length < MIN_POINTS) { return; }
    var rank = ORDER.indexOf(this.drawing.type);  // after the last shape of its own type or of an earlier one
    var at = this.shapes.filter(function (s) { return ORDER.indexOf(s.type) <= rank; }).length;
    this.shapes.splice(at, 0, this.drawing);
    this.selected = at;
    this.drawing = null;
    this.changed();
  };

  Editor.prototype.remove = function () {
    if (this.selected < 0 || this.drawing) { return; }
    this.shapes.splice(this.selected, 1);
    this.selected = Math.min(this.selected, this.shapes.length - 1);
    this.changed();
  };

  Editor.prototype.down = function (e) {
    var target = e.target;
    if (e.button !== 0) { return; }
    e.preventDefault();
    if (this.drawing) {
      this.drawing.points.push(this.point(e));
      this.render();
      return;
    }
    if (target.hasAttribute("data-vertex")) {
      this.drag = { kind: "vertex", shape: +target.getAttribute("data-shape"), index: +target.getAttribute("data-vertex") };
    } else if (target.hasAttribute("data-handle")) {
      this.drag = { kind: "handle", index: +target.getAttribute("data-handle") };
    } else if (target.hasAttribute("data-shape")) {
      this.selected = +target.getAttribute("data-shape");
      this.render();
    }
  };

  Editor.prototype.move = function (e) {
    if (!this.drag) { return; }
    var p = this.point(e);
    if (this.drag.kind === "vertex") {
      this.shapes[this.drag.shape].points[this.drag.index] = p;
    } else {
      var zone = this.current(), edge = this.edges(zone)[this.drag.index];
      zone.person_height[this.drag.index] = Math.max(MIN_HEIGHT, round(edge - p[1]));
    }
    this.changed();
  };

  Editor.prototype.edges = function (zone) {  // [near (bottom) y, far (top) y] of a zone
    var ys = zone.points.map(function (q) { return q[1]; });
    return [Math.max.apply(null, ys), Math.min.apply(null, ys)];
  };

  Editor.prototype.render = function () {
    var self = this, svg = this.svg, H = this.H;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var xy = function (q) { return (q[0] * W) + "," + (q[1] * H); };
    svg.classList.toggle("previewing", this.$("privacy-preview").checked);
    if (this.$("privacy-preview").checked) { this.renderPreview(xy); }
    this.shapes.forEach(function (s, i) {
      var cls = s.type + (i === self.selected ? " selected" : "");
      svg.appendChild(el("polygon", { points: s.points.map(xy).join(" "), "class": cls, "data-shape": i }));
    });
    var sel = this.current();
    if (sel && !this.drawing) {
      sel.points.forEach(function (q, j) {
        svg.appendChild(el("circle", { cx: q[0] * W, cy: q[1] * H, r: VERTEX_R, "class": "vertex",
                                        "data-shape": self.selected, "data-vertex": j }));
      });
      if (sel.type === "zone" && sel.person_height) { this.renderMarkers(sel); }
    }
    if (this.drawing) {
      svg.appendChild(el("polyline", { points: this.drawing.points.map(xy).join(" "), "class": "drawing" }));
      this.drawing.points.forEach(function (q) {
        svg.appendChild(el("circle", { cx: q[0] * W, cy: q[1] * H, r: VERTEX_R / 2, "class": "drawing-point" }));
      });
    }
    this.renderList();
    this.renderProps();
    this.renderButtons();
  };

  Editor.prototype.picture = function () {  // the snapshot copied once into a data: URL (same origin, so allowed)
    if (!this.still && this.img.complete && this.img.naturalWidth) {
      var canvas = document.createElement("canvas");
      canvas.width = this.img.naturalWidth;
      canvas.height = this.img.naturalHeight;
      canvas.getContext("2d").drawImage(this.img, 0, 0);
      this.still = canvas.toDataURL("image/jpeg", 0.9);
    }
    return this.still;
  };

  Editor.prototype.renderPreview = function (xy) {  // the picture blurred, clipped to the privacy masks
    var svg = this.svg, href = this.picture();
    var privacy = this.shapes.filter(function (s) { return s.type === "privacy"; });
    if (!href || !privacy.length) { return; }
    var defs = el("defs"), clip = el("clipPath", { id: "privacy-clip" }), blur = el("filter", { id: "privacy-blur" });
    privacy.forEach(function (s) { clip.appendChild(el("polygon", { points: s.points.map(xy).join(" ") })); });
    blur.appendChild(el("feGaussianBlur", { stdDeviation: PREVIEW_BLUR }));
    defs.appendChild(clip);
    defs.appendChild(blur);
    svg.appendChild(defs);
    svg.appendChild(el("image", { href: href, x: 0, y: 0, width: W, height: this.H, preserveAspectRatio: "none",
                                  "clip-path": "url(#privacy-clip)", filter: "url(#privacy-blur)", "class": "blurred" }));
  };

  Editor.prototype.renderMarkers = function (zone) {
    var H = this.H, edges = this.edges(zone), svg = this.svg;
    var xs = zone.points.map(function (q) { return q[0]; });
    var cx = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2 * W;
    [0, 1].forEach(function (i) {
      var x = cx + (i === 0 ? -MARKER_DX : MARKER_DX), base = edges[i] * H, top = (edges[i] - zone.person_height[i]) * H;
      svg.appendChild(el("line", { x1: x, y1: base, x2: x, y2: top, "class": "marker" }));
      svg.appendChild(el("circle", { cx: x, cy: top, r: VERTEX_R, "class": "handle", "data-handle": i }));
    });
  };

  Editor.prototype.label = function (s, i) {  // masks are numbered among their kind: "privacy mask 1", "… 2"
    if (s.type !== "zone") {
      return this.text[s.type] + " " + this.shapes.slice(0, i + 1).filter(function (t) { return t.type === s.type; }).length;
    }
    return s.id + " (" + (this.text.kinds[s.kind] || s.kind) + ")";
  };

  Editor.prototype.renderList = function () {
    var self = this, list = this.$("shape-list");
    list.textContent = "";
    this.shapes.forEach(function (s, i) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.className = s.type;
      b.textContent = self.label(s, i);
      b.setAttribute("aria-pressed", i === self.selected ? "true" : "false");
      b.addEventListener("click", function () { self.selected = i; self.drawing = null; self.render(); });
      li.appendChild(b);
      list.appendChild(li);
    });
  };

  Editor.prototype.renderProps = function () {
    var sel = this.current(), isZone = !!sel && sel.type === "zone" && !this.drawing;
    this.$("zone-props").disabled = !isZone;
    this.$("zone-props").hidden = !isZone;
    if (!isZone) { return; }
    if (document.activeElement !== this.$("zone-id")) { this.$("zone-id").value = sel.id; }
    this.$("zone-kind").value = sel.kind;
    this.$("zone-calibrate").checked = !!sel.person_height;
    this.$("zone-seated").checked = sel.seated !== false;
    this.$("zone-seated-label").hidden = sel.kind !== "waiting_area" && sel.kind !== "service_spot";
    this.$("zone-seated-hint").hidden = sel.kind !== "waiting_area";
    this.$("zone-seated-spot-hint").hidden = sel.kind !== "service_spot";
    this.$("calibration-values").textContent = sel.person_height
      ? this.text.near + " " + sel.person_height[0].toFixed(2) + " · " + this.text.far + " " + sel.person_height[1].toFixed(2)
      : "";
    this.$("zone-head-height-hint").hidden = !this.atHeadHeight(sel);
    this.$("zone-body-hint").hidden = this.bodyDrawn.indexOf(sel.id) < 0;
    this.$("zone-covers-hint").hidden = !this.coversSeats.some(function (pair) { return pair.indexOf(sel.id) >= 0; });
  };

  // True when a zone's markers put near and far heads on about one row: the slope of the height against
  // the feet row is a person's height over the camera's, 1 for a camera at head height.
  Editor.prototype.atHeadHeight = function (zone) {
    if (!zone.person_height) { return false; }
    var e = this.edges(zone), span = e[0] - e[1];
    return span > 0 && (zone.person_height[0] - zone.person_height[1]) / span >= this.headHeightSlope;
  };

  Editor.prototype.renderButtons = function () {
    var drawing = !!this.drawing, n = drawing ? this.drawing.points.length : 0;
    this.$("new-zone").disabled = drawing;
    this.$("new-mask").disabled = drawing;
    this.$("new-privacy").disabled = drawing;
    this.$("draw-tools").hidden = !drawing;
    this.$("undo-point").disabled = n === 0;
    this.$("finish").disabled = n < MIN_POINTS;
    this.$("delete-shape").disabled = drawing || !this.current();
    this.$("corner-count").textContent = drawing ? this.text.corners + " " + n : "";
  };

  Editor.prototype.payload = function () {
    var polygons = function (type) {
      return this.shapes.filter(function (s) { return s.type === type; }).map(function (s) { return s.points; });
    }.bind(this);
    return {
      zones: this.shapes.filter(function (s) { return s.type === "zone"; }).map(function (s) {
        var z = { id: s.id, kind: s.kind, points: s.points };
        if (s.person_height) { z.person_height = s.person_height; }
        if ((s.kind === "waiting_area" || s.kind === "service_spot") && s.seated === false) { z.seated = false; }
        return z;
      }),
      masks: polygons("mask"),
      privacy_masks: polygons("privacy")
    };
  };

  // What the last save found drawn around the people rather than the floor, for the saved message ("" if nothing).
  Editor.prototype.drawingNote = function () {
    var text = this.text, areas = [];
    this.coversSeats.forEach(function (pair) { if (areas.indexOf(pair[0]) < 0) { areas.push(pair[0]); } });
    return (this.bodyDrawn.length ? " " + text.drawn_as_body + " " + this.bodyDrawn.join(", ") : "")
      + (areas.length ? " " + text.covers_seats + " " + areas.join(", ") : "");
  };

  Editor.prototype.say = function (kind, message) {
    var status = this.$("zone-status");
    status.className = kind;
    status.textContent = message;
  };

  Editor.prototype.save = function () {
    var self = this, text = this.text;
    if (this.drawing) { this.finish(); }
    this.say("", text.saving);
    fetch(this.root.getAttribute("data-save-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.root.getAttribute("data-csrf") },
      body: JSON.stringify(this.payload())
    }).then(function (r) {
      return r.json().catch(function () { return { error: r.status + " " + r.statusText }; }).then(function (j) {
        if (r.ok) {
          self.dirty = false;
          self.bodyDrawn = j.drawn_as_body;
          self.coversSeats = j.covers_seats;
          self.renderProps();
        }
        self.say(r.ok ? "saved" : "error", !r.ok ? text.failed + " " + (j.error || r.status) : text.saved + self.drawingNote());
      });
    }).catch(function (err) { self.say("error", text.failed + " " + err.message); });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("zone-editor");
    if (root) { root.editor = new Editor(root); }
  });
})();
