// Zone and mask editor: polygons in normalised 0..1 coordinates drawn over the camera's picture (SVG),
// person-height markers for the selected zone, saved as JSON to the page's data-save-url.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var W = 1000;  // the SVG's width in its own units; the height follows the picture's aspect ratio
  var VERTEX_R = 7;
  var DEFAULT_HEIGHT = [0.4, 0.25];  // a standing person near and far, as a share of the frame height

  function el(name, attrs) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function round(v) { return Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000; }

  function Editor(root) {
    var data = JSON.parse(document.getElementById("zone-data").textContent);
    this.root = root;
    this.svg = document.getElementById("zone-svg");
    this.img = document.getElementById("zone-picture");
    this.H = W * 9 / 16;
    this.shapes = data.zones.map(function (z) {
      return { type: "zone", id: z.id, kind: z.kind, points: z.points, person_height: z.person_height || null };
    }).concat(data.masks.map(function (m) { return { type: "mask", points: m }; }));
    this.selected = this.shapes.length ? 0 : -1;
    this.drawing = null;  // the shape being drawn (points added by clicks)
    this.drag = null;
    this.bind();
    this.render();
  }

  Editor.prototype.$ = function (id) { return document.getElementById(id); };

  Editor.prototype.bind = function () {
    var self = this;
    var fit = function () {
      if (self.img.naturalWidth) { self.H = W * self.img.naturalHeight / self.img.naturalWidth; self.render(); }
    };
    this.img.addEventListener("load", fit);
    if (this.img.complete) { fit(); }
    this.$("new-zone").addEventListener("click", function () { self.start("zone"); });
    this.$("new-mask").addEventListener("click", function () { self.start("mask"); });
    this.$("finish").addEventListener("click", function () { self.finish(); });
    this.$("delete-shape").addEventListener("click", function () { self.remove(); });
    this.$("save-zones").addEventListener("click", function () { self.save(); });
    this.$("zone-id").addEventListener("input", function (e) { self.current().id = e.target.value.trim(); self.renderList(); });
    this.$("zone-kind").addEventListener("change", function (e) { self.current().kind = e.target.value; self.renderList(); });
    this.$("zone-calibrate").addEventListener("change", function (e) {
      self.current().person_height = e.target.checked ? DEFAULT_HEIGHT.slice() : null;
      self.render();
    });
    this.svg.addEventListener("mousedown", function (e) { self.down(e); });
    window.addEventListener("mousemove", function (e) { self.move(e); });
    window.addEventListener("mouseup", function () { self.drag = null; });
  };

  Editor.prototype.current = function () { return this.shapes[this.selected]; };

  Editor.prototype.point = function (e) {
    var box = this.svg.getBoundingClientRect();
    return [round((e.clientX - box.left) / box.width), round((e.clientY - box.top) / box.height)];
  };

  Editor.prototype.start = function (type) {
    var n = this.shapes.filter(function (s) { return s.type === "zone"; }).length + 1;
    this.drawing = type === "zone" ? { type: "zone", id: "zone-" + n, kind: "staff_seat", points: [], person_height: null }
      : { type: "mask", points: [] };
    this.render();
  };

  Editor.prototype.finish = function () {
    if (this.drawing && this.drawing.points.length >= 3) {
      this.shapes.push(this.drawing);
      this.selected = this.shapes.length - 1;
    }
    this.drawing = null;
    this.render();
  };

  Editor.prototype.remove = function () {
    if (this.selected < 0) { return; }
    this.shapes.splice(this.selected, 1);
    this.selected = Math.min(this.selected, this.shapes.length - 1);
    this.render();
  };

  Editor.prototype.down = function (e) {
    var target = e.target;
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
      zone.person_height[this.drag.index] = Math.max(0.01, round(edge - p[1]));
    }
    this.render();
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
    this.shapes.forEach(function (s, i) {
      var cls = s.type + (i === self.selected ? " selected" : "");
      svg.appendChild(el("polygon", { points: s.points.map(xy).join(" "), "class": cls, "data-shape": i }));
    });
    var sel = this.current();
    if (sel && !this.drawing) {
      sel.points.forEach(function (q, j) {
        svg.appendChild(el("circle", { cx: q[0] * W, cy: q[1] * H, r: VERTEX_R, "class": "vertex",
                                        fill: "#dc2626", "data-shape": self.selected, "data-vertex": j }));
      });
      if (sel.type === "zone" && sel.person_height) { this.renderMarkers(sel); }
    }
    if (this.drawing) {
      svg.appendChild(el("polyline", { points: this.drawing.points.map(xy).join(" "), "class": "drawing" }));
      this.drawing.points.forEach(function (q) {
        svg.appendChild(el("circle", { cx: q[0] * W, cy: q[1] * H, r: VERTEX_R / 2, fill: "#dc2626" }));
      });
    }
    this.renderList();
    this.renderProps();
  };

  Editor.prototype.renderMarkers = function (zone) {
    var H = this.H, edges = this.edges(zone), svg = this.svg;
    var xs = zone.points.map(function (q) { return q[0]; });
    var cx = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2 * W;
    [0, 1].forEach(function (i) {
      var x = cx + (i === 0 ? -12 : 12), base = edges[i] * H, top = (edges[i] - zone.person_height[i]) * H;
      svg.appendChild(el("line", { x1: x, y1: base, x2: x, y2: top, "class": "marker" }));
      svg.appendChild(el("circle", { cx: x, cy: top, r: VERTEX_R, fill: "#16a34a", "class": "handle",
                                     "data-handle": i }));
    });
  };

  Editor.prototype.renderList = function () {
    var self = this, list = this.$("shape-list"), root = this.root;
    list.textContent = "";
    this.shapes.forEach(function (s, i) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.textContent = s.type === "zone" ? s.id + " (" + s.kind + ")" : root.getAttribute("data-mask-label") + " " + (i + 1);
      b.setAttribute("aria-pressed", i === self.selected ? "true" : "false");
      b.addEventListener("click", function () { self.selected = i; self.render(); });
      li.appendChild(b);
      list.appendChild(li);
    });
  };

  Editor.prototype.renderProps = function () {
    var sel = this.current(), isZone = !!sel && sel.type === "zone" && !this.drawing;
    this.$("zone-props").disabled = !isZone;
    this.$("delete-shape").disabled = !sel || !!this.drawing;
    this.$("finish").disabled = !this.drawing;
    if (isZone) {
      if (document.activeElement !== this.$("zone-id")) { this.$("zone-id").value = sel.id; }
      this.$("zone-kind").value = sel.kind;
      this.$("zone-calibrate").checked = !!sel.person_height;
      this.$("calibration-values").textContent = sel.person_height ? sel.person_height.join(" / ") : "";
    }
  };

  Editor.prototype.save = function () {
    var self = this, status = this.$("zone-status");
    var body = {
      zones: this.shapes.filter(function (s) { return s.type === "zone"; }).map(function (s) {
        var z = { id: s.id, kind: s.kind, points: s.points };
        if (s.person_height) { z.person_height = s.person_height; }
        return z;
      }),
      masks: this.shapes.filter(function (s) { return s.type === "mask"; }).map(function (s) { return s.points; })
    };
    fetch(this.root.getAttribute("data-save-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.root.getAttribute("data-csrf") },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return { error: r.statusText }; }).then(function (j) {
        status.className = r.ok ? "saved" : "error";
        status.textContent = r.ok ? self.root.getAttribute("data-saved")
          : self.root.getAttribute("data-failed") + " " + (j.error || r.status);
      });
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("zone-editor");
    if (root) { root.editor = new Editor(root); }
  });
})();
