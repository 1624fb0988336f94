// faultline report: decodes the columnar history and draws the timeline and
// charts on canvases. State is exposed on window.faultline so that a
// browser test (and a curious user in the console) can inspect it.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("fl-data").textContent);
  var n = D.ops;
  var COLORS = ["#3b82c4", "#d9488f", "#e8a317"]; // ok, fail, info
  var TYPES = ["ok", "fail", "info"];
  var BAND_COLORS = { partition: "214,39,40", kill: "90,90,90", pause: "148,103,189", clock: "23,190,207", latency: "188,189,34" };
  function bandRGB(kind) { return BAND_COLORS[kind] || "255,127,14"; }

  // Decode the delta-encoded columns into typed arrays once.
  var start = new Float64Array(n), end = new Float64Array(n), inv = new Int32Array(n), comp = new Int32Array(n);
  var acc = 0, accI = 0, maxDur = 0, never = [];
  for (var j = 0; j < n; j++) {
    acc += D.s[j]; start[j] = acc;
    accI += D.i[j]; inv[j] = accI;
    if (D.d[j] < 0) { end[j] = D.end; comp[j] = -1; never.push(j); }
    else { end[j] = acc + D.d[j]; comp[j] = accI + D.c[j]; if (D.d[j] > maxDur) maxDur = D.d[j]; }
  }
  // Log latencies are computed once: the latency chart needs them for
  // every op on every redraw.
  var logLat = new Float32Array(n);
  for (j = 0; j < n; j++) logLat[j] = Math.log10(Math.max(D.d[j], 10));
  var tEnd = Math.max(D.end, 1);
  var pairOf = new Int32Array(D.maxIndex + 1).fill(-1);
  for (j = 0; j < n; j++) { pairOf[inv[j]] = j; if (comp[j] >= 0) pairOf[comp[j]] = j; }
  var nemAt = {};
  D.nem.forEach(function (o) { nemAt[o.i] = o; });
  var nodeStates = D.nodeStates || [], markers = D.markers || [], markerGroups = D.markerGroups || [];

  // Lanes per process: one row per process, unless crashed processes
  // multiplied them; then a process shares its worker's row (process mod
  // concurrency). Lanes per node: a block of rows per node (the node that
  // served each op), one row per worker when that stays readable, with the
  // node's state during each fault drawn behind its block.
  var procs = Array.from(new Set(D.p)).sort(function (a, b) { return a - b; });
  var folded = procs.length > 64 && D.concurrency > 0;
  var rowOf = new Int32Array(n), rowLabels = [], rows = 1, laneMode = "process";
  var nodeNames = D.nodes.slice();
  nodeStates.forEach(function (s) { if (nodeNames.indexOf(s.n) < 0) nodeNames.push(s.n); });
  nodeNames.sort(function (a, b) { return a.localeCompare(b, undefined, { numeric: true }); });
  var nodeRow = {}, perNode = 1, hasNoNode = false;
  for (var j0 = 0; j0 < n; j0++) if (D.n[j0] < 0) { hasNoNode = true; break; }
  function workerOf(j) { return folded ? D.p[j] % D.concurrency : procIndex[D.p[j]]; }
  var procIndex = {};
  procs.forEach(function (p, r) { procIndex[p] = r; });
  function setLanes(mode) {
    laneMode = mode; rowLabels = [];
    if (mode === "node") {
      var workers = folded ? D.concurrency : procs.length, names = nodeNames.slice();
      if (hasNoNode) names.push("no node");
      perNode = names.length * workers <= 160 ? Math.max(workers, 1) : 1;
      names.forEach(function (nm, i) {
        nodeRow[nm] = i * perNode;
        for (var k = 0; k < perNode; k++) rowLabels.push(k === 0 ? nm : "");
      });
      var ids = D.nodes.map(function (nm) { return nodeRow[nm]; }), none = nodeRow["no node"];
      for (var j = 0; j < n; j++) rowOf[j] = (D.n[j] >= 0 ? ids[D.n[j]] : none) + (perNode > 1 ? workerOf(j) % perNode : 0);
    } else if (folded) {
      for (var w = 0; w < D.concurrency; w++) rowLabels.push("w" + w);
      for (j = 0; j < n; j++) rowOf[j] = D.p[j] % D.concurrency;
    } else {
      procs.forEach(function (p) { rowLabels.push("p" + p); });
      for (j = 0; j < n; j++) rowOf[j] = procIndex[D.p[j]];
    }
    rows = Math.max(rowLabels.length, 1);
    rowH = Math.max(3, Math.min(18, Math.floor(520 / rows)));
    if (FL) { FL.rows = rows; FL.lanes = mode; }
  }
  var rowH = 18, FL = null;
  setLanes("process");

  FL = window.faultline = {
    ops: n, rows: rows, folded: folded, bands: D.bands, lanes: laneMode, nodes: nodeNames, nodeStates: nodeStates, markers: markers, markersDrawn: 0, nodeStatesDrawn: 0, renderedOps: 0, aggregated: false,
    view: { t0: 0, t1: tEnd }, selected: -1, selectedPair: -1, highlighted: [], keyFilter: null, ready: false, draws: 0
  };

  function lowerBound(arr, x) { var lo = 0, hi = arr.length; while (lo < hi) { var m = (lo + hi) >> 1; if (arr[m] < x) lo = m + 1; else hi = m; } return lo; }
  function trim(s) { return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, ""); }
  function fmtTime(us) {
    var a = Math.abs(us);
    if (a >= 1e6) return trim((us / 1e6).toFixed(a >= 1e8 ? 0 : 3)) + " s";
    if (a >= 1e3) return trim((us / 1e3).toFixed(2)) + " ms";
    return Math.round(us) + " µs";
  }
  // fmtTick shows as many decimals as the tick step needs, so ticks 0.5 ms
  // apart at 60 s do not all read "60.008 s".
  function fmtTick(us, step) {
    var unit = us >= 1e6 ? 1e6 : us >= 1e3 ? 1e3 : 1, name = unit === 1e6 ? " s" : unit === 1e3 ? " ms" : " µs";
    var dec = Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / unit) - 1e-9)));
    return trim((us / unit).toFixed(dec)) + name;
  }
  function describe(j) {
    var f = D.fs[D.f[j]], k = D.k[j] >= 0 ? D.keys[D.k[j]] : "", v = D.v[j];
    var s = "#" + inv[j] + (comp[j] >= 0 ? "→#" + comp[j] : " (never completed)") + "  p" + D.p[j] + "  " + f;
    if (k) s += " key=" + k;
    if (v !== null && v !== undefined) s += " " + v;
    s += "\n" + TYPES[D.t[j]] + "  invoked " + fmtTime(start[j]) + (comp[j] >= 0 ? ", took " + fmtTime(end[j] - start[j]) : "");
    if (D.n[j] >= 0) s += "  node " + D.nodes[D.n[j]];
    if (D.e[j] >= 0) s += "\nerror: " + D.errs[D.e[j]];
    return s;
  }

  // Canvases are sized in device pixels for sharp 1px bars.
  var dpr = window.devicePixelRatio || 1;
  var GUTTER = 54, AXIS = 18, BANDLABEL = 14, MARK = 11;
  // lanesTop is where the first lane starts: under the axis, the fault
  // labels and the strip of anomaly markers.
  function lanesTop() { return AXIS + (D.bands.length ? 2 * BANDLABEL : 0) + (markers.length ? MARK : 0); }
  function markTop() { return AXIS + (D.bands.length ? 2 * BANDLABEL : 0); }
  function setup(c, cssH) {
    var cssW = c.parentNode.clientWidth || 900;
    c.style.height = cssH + "px";
    c.width = Math.floor(cssW * dpr); c.height = Math.floor(cssH * dpr);
    var g = c.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g: g, w: cssW, h: cssH };
  }
  var tl = document.getElementById("timeline"), lat = document.getElementById("latency"), thr = document.getElementById("throughput");
  var T, L, R;
  function layout() {
    T = setup(tl, lanesTop() + rows * rowH + 4);
    L = setup(lat, 200); R = setup(thr, 160);
  }
  function xOf(t, C) { var v = FL.view; return GUTTER + (t - v.t0) / (v.t1 - v.t0) * (C.w - GUTTER - 6); }
  function tOf(x, C) { var v = FL.view; return v.t0 + (x - GUTTER) / (C.w - GUTTER - 6) * (v.t1 - v.t0); }

  function drawAxis(C, top) {
    var g = C.g, v = FL.view, span = v.t1 - v.t0;
    var step = Math.pow(10, Math.floor(Math.log10(span / 6)));
    if (span / step > 12) step *= 5; else if (span / step > 6) step *= 2;
    g.fillStyle = "#555"; g.font = "11px sans-serif"; g.strokeStyle = "#eee";
    for (var t = Math.ceil(v.t0 / step) * step; t <= v.t1; t += step) {
      var x = xOf(t, C);
      g.beginPath(); g.moveTo(x, top); g.lineTo(x, C.h); g.stroke();
      g.fillText(fmtTick(t, step), x + 2, top + 11);
    }
  }
  // A fault that failed is hatched in grey with a dashed red edge, so it is
  // never read as one that took effect.
  var hatch = null;
  function hatchPattern(g) {
    if (hatch) return hatch;
    var c = document.createElement("canvas"); c.width = c.height = 8;
    var p = c.getContext("2d"); p.strokeStyle = "rgba(198,40,40,0.45)"; p.lineWidth = 1.5;
    p.beginPath(); p.moveTo(0, 8); p.lineTo(8, 0); p.stroke();
    hatch = g.createPattern(c, "repeat");
    return hatch;
  }
  function drawBands(C, top, labels) {
    var g = C.g, drawn = 0;
    FL.failedBandsDrawn = 0;
    D.bands.forEach(function (b, i) {
      var x0 = Math.max(GUTTER, xOf(b.start, C)), x1 = Math.min(C.w - 6, xOf(b.end, C));
      if (x1 < GUTTER || x0 > C.w) return;
      drawn++;
      if (b.failed) {
        FL.failedBandsDrawn++;
        g.fillStyle = "rgba(120,120,120,0.10)"; g.fillRect(x0, top, Math.max(3, x1 - x0), C.h - top);
        g.fillStyle = hatchPattern(g); g.fillRect(x0, top, Math.max(3, x1 - x0), C.h - top);
        g.save(); g.strokeStyle = "#c62828"; g.setLineDash([4, 3]); g.beginPath(); g.moveTo(x0 + 0.5, top); g.lineTo(x0 + 0.5, C.h); g.stroke(); g.restore();
      } else {
        g.fillStyle = "rgba(" + bandRGB(b.kind) + ",0.13)";
        g.fillRect(x0, top, Math.max(1, x1 - x0), C.h - top);
        g.fillStyle = "rgba(" + bandRGB(b.kind) + ",0.9)";
        g.fillRect(x0, top, 2, C.h - top);
      }
      if (labels) {
        g.save(); g.beginPath(); g.rect(x0, 0, Math.max(0, x1 - x0), C.h); g.clip();
        g.font = "11px sans-serif"; g.fillStyle = b.failed ? "#c62828" : "rgba(" + bandRGB(b.kind) + ",1)";
        g.fillText((b.failed ? "✗ FAILED " : "") + b.label, x0 + 4, AXIS + 11 + (i % 2) * BANDLABEL);
        g.restore();
      }
    });
    if (D.final >= 0) {
      var xf = xOf(D.final, C);
      if (xf >= GUTTER && xf <= C.w) { g.fillStyle = "#222"; g.fillRect(xf, top, 1, C.h - top); if (labels) g.fillText("final reads", xf + 3, C.h - 4); }
    }
    return drawn;
  }

  // drawNodeStates paints each node's state during each fault behind the
  // node's block of lanes: killed, paused, cut off, clock offset, slow.
  function drawNodeStates(C, top) {
    var g = C.g, drawn = 0;
    nodeStates.forEach(function (s) {
      var r0 = nodeRow[s.n];
      if (r0 === undefined) return;
      var x0 = Math.max(GUTTER, xOf(s.s, C)), x1 = Math.min(C.w - 6, xOf(s.e, C));
      if (x1 < GUTTER || x0 > C.w - 6) return;
      drawn++;
      var y = top + r0 * rowH, h = perNode * rowH;
      g.fillStyle = s.f ? hatchPattern(g) : "rgba(" + bandRGB(s.k) + ",0.28)";
      g.fillRect(x0, y, Math.max(2, x1 - x0), h);
      if (x1 - x0 > 40 && h >= 10) {
        g.save(); g.beginPath(); g.rect(x0, y, x1 - x0, h); g.clip();
        g.fillStyle = "rgba(" + bandRGB(s.k) + ",1)"; g.font = "10px sans-serif";
        g.fillText((s.f ? "✗ " : "") + s.l, x0 + 3, y + Math.min(h - 2, 10));
        g.restore();
      }
    });
    g.strokeStyle = "#c9ced4";
    nodeNames.forEach(function (nm) {
      var y = top + nodeRow[nm] * rowH;
      if (nodeRow[nm] > 0) { g.beginPath(); g.moveTo(GUTTER, y + 0.5); g.lineTo(C.w - 6, y + 0.5); g.stroke(); }
    });
    FL.nodeStatesDrawn = drawn;
  }
  // drawMarkers puts a red triangle above the lanes where each listed
  // anomaly was proven (its last op's completion).
  function drawMarkers(C) {
    if (!markers.length) return;
    var g = C.g, y = markTop(), drawn = 0;
    g.fillStyle = "#c62828";
    markers.forEach(function (m) {
      var x = xOf(m.t, C);
      if (x < GUTTER || x > C.w - 6) return;
      drawn++;
      g.beginPath(); g.moveTo(x - 4, y + 1); g.lineTo(x + 4, y + 1); g.lineTo(x, y + MARK - 2); g.closePath(); g.fill();
    });
    FL.markersDrawn = drawn;
  }
  function markerAt(x, y) {
    if (!markers.length || y < markTop() || y > markTop() + MARK) return -1;
    var best = -1, bestD = 6;
    markers.forEach(function (m, i) { var d = Math.abs(xOf(m.t, T) - x); if (d < bestD) { bestD = d; best = i; } });
    return best;
  }
  FL.showMarker = function (i) {
    var m = markers[i], gr = markerGroups[m.g];
    FL.jump(m.o[m.o.length - 1], m.o);
    msg.textContent = gr.type + " (" + gr.checker + ")" + (m.k ? " on key " + m.k : "") + ": its ops are outlined";
    FL.markerShown = i;
  };

  function visibleRange() {
    var v = FL.view;
    return [lowerBound(start, v.t0 - maxDur), lowerBound(start, v.t1 + 1e-9)];
  }

  var bucket = null;
  function drawTimeline() {
    var C = T, g = C.g, v = FL.view;
    g.clearRect(0, 0, C.w, C.h);
    var top = lanesTop();
    drawAxis(C, 0);
    FL.bandsDrawn = drawBands(C, AXIS, true);
    if (laneMode === "node") drawNodeStates(C, top);
    drawMarkers(C);
    g.fillStyle = "#555"; g.font = "10px sans-serif";
    var labelEvery = laneMode === "node" ? 1 : Math.ceil(11 / rowH);
    for (var r = 0; r < rows; r += labelEvery) if (rowLabels[r]) g.fillText(rowLabels[r], 2, top + r * rowH + Math.min(rowH, 11));
    var range = visibleRange(), lo = range[0], hi = range[1];
    var plotW = Math.ceil(C.w - GUTTER - 6), scale = (C.w - GUTTER - 6) / (v.t1 - v.t0);
    var hl = FL.keyFilter, keyId = hl === null ? -2 : D.keys.indexOf(hl);
    var count = 0, aggregated = 0;
    // Ops narrower than a pixel are counted per (row, pixel column) and
    // drawn once per cell: a million ops cost one pass and a few thousand
    // rectangles, not a million.
    var need = rows * plotW * 3;
    if (!bucket || bucket.length < need) bucket = new Uint32Array(need); else bucket.fill(0, 0, need);
    var dim = keyId !== -2;
    function drawOne(j) {
      var x0 = GUTTER + (start[j] - v.t0) * scale, x1 = GUTTER + (end[j] - v.t0) * scale;
      if (x1 < GUTTER || x0 > C.w - 6) return;
      count++;
      if (x1 - x0 < 1.5) {
        var col = Math.max(0, Math.min(plotW - 1, Math.floor(x0 - GUTTER)));
        bucket[(rowOf[j] * plotW + col) * 3 + D.t[j]]++;
        aggregated++;
        return;
      }
      x0 = Math.max(GUTTER, x0); x1 = Math.min(C.w - 6, x1);
      var y = top + rowOf[j] * rowH;
      g.globalAlpha = dim && D.k[j] !== keyId ? 0.15 : 1;
      g.fillStyle = COLORS[D.t[j]];
      g.fillRect(x0, y + 1, Math.max(1, x1 - x0 - 0.5), rowH - 2 > 0 ? rowH - 2 : 1);
      if (rowH >= 12 && x1 - x0 > 60) {
        g.fillStyle = "#fff"; g.font = "10px sans-serif";
        var k = D.k[j] >= 0 ? D.keys[D.k[j]] + " " : "", val = D.v[j] === null ? "" : " " + D.v[j];
        g.fillText((k + D.fs[D.f[j]] + val).slice(0, Math.floor((x1 - x0) / 6)), x0 + 3, y + rowH - 4);
      }
    }
    for (var j = lo; j < hi; j++) if (end[j] >= v.t0) drawOne(j);
    g.globalAlpha = 1;
    // Each aggregated cell is split by type in proportion to its counts,
    // with at least a pixel for any fail or info so rare ones stay visible.
    var cellH = rowH - 2 > 0 ? rowH - 2 : 1;
    for (r = 0; r < rows; r++) {
      var y = top + r * rowH;
      for (var c = 0; c < plotW; c++) {
        var b = (r * plotW + c) * 3, total = bucket[b] + bucket[b + 1] + bucket[b + 2];
        if (!total) continue;
        var yy = y + 1 + cellH;
        for (var t = 2; t >= 0; t--) {
          if (!bucket[b + t]) continue;
          var hh = t === 0 ? yy - (y + 1) : Math.max(1, Math.round(bucket[b + t] / total * cellH));
          if (hh <= 0) continue;
          g.fillStyle = COLORS[t];
          g.fillRect(GUTTER + c, yy - hh, 1, hh);
          yy -= hh;
        }
      }
    }
    // Highlights last, so they stay visible over aggregated cells.
    var marks = FL.highlighted.slice();
    if (FL.selectedPair >= 0) marks.push(FL.selectedPair);
    marks.forEach(function (j) {
      var x0 = Math.max(GUTTER, xOf(start[j], C)), x1 = Math.min(C.w - 6, xOf(end[j], C)), y = top + rowOf[j] * rowH;
      g.strokeStyle = j === FL.selectedPair ? "#000" : "#c00"; g.lineWidth = 2;
      g.strokeRect(x0 - 2, y - 1, Math.max(3, x1 - x0) + 4, rowH + 2);
      g.lineWidth = 1;
    });
    FL.renderedOps = count; FL.aggregated = aggregated > 0; FL.aggregatedOps = aggregated;
    FL.draws++;
  }

  // Latency: scatter (log scale) plus per-slice p50/p99 lines. A dense view
  // is drawn into a pixel buffer rather than with one fillRect per op, and
  // the quantiles come from per-slice log histograms rather than sorts, so
  // half a million ops redraw in tens of milliseconds.
  var RGB = [[59, 130, 196], [217, 72, 143], [232, 163, 23]];
  function drawLatency() {
    var C = L, g = C.g, v = FL.view;
    g.clearRect(0, 0, C.w, C.h);
    var top = AXIS, bottom = C.h - 4, plotH = bottom - top;
    var range = visibleRange(), lo = range[0], hi = range[1];
    var maxL = 1;
    for (var j = lo; j < hi; j++) if (D.d[j] > maxL) maxL = D.d[j];
    var lmin = 1, lmax = Math.max(Math.log10(maxL * 1.2), 1.5), lspan = lmax - lmin;
    function yOf(us) { var l = Math.log10(Math.max(us, 10)); return bottom - (l - lmin) / lspan * plotH; }
    var plotW = Math.ceil(C.w - GUTTER - 6), slices = 60, BINS = 256;
    var hist = new Uint32Array(slices * BINS), sliceN = new Uint32Array(slices);
    var span = v.t1 - v.t0, scale = (C.w - GUTTER - 6) / span, dense = hi - lo > 3000;
    var img = dense ? g.createImageData(C.g.canvas.width, C.g.canvas.height) : null, px = img ? img.data : null, W = img ? img.width : 0;
    for (j = lo; j < hi; j++) {
      var d = D.d[j];
      if (d < 0 || start[j] < v.t0) continue;
      var t = D.t[j], x = GUTTER + (start[j] - v.t0) * scale, ll = logLat[j], y = bottom - (ll - lmin) / lspan * plotH;
      if (dense) {
        var o = (Math.floor(y * dpr) * W + Math.floor(x * dpr)) * 4, c = RGB[t];
        if (o >= 0 && o + 4 * W + 8 <= px.length) {
          px[o] = px[o + 4] = px[o + 4 * W] = px[o + 4 * W + 4] = c[0];
          px[o + 1] = px[o + 5] = px[o + 4 * W + 1] = px[o + 4 * W + 5] = c[1];
          px[o + 2] = px[o + 6] = px[o + 4 * W + 2] = px[o + 4 * W + 6] = c[2];
          px[o + 3] = px[o + 7] = px[o + 4 * W + 3] = px[o + 4 * W + 7] = 210;
        }
      } else {
        g.fillStyle = COLORS[t];
        g.fillRect(x - 1.5, y - 1.5, 3, 3);
      }
      if (t === 0) {
        var sIdx = Math.min(slices - 1, Math.floor((start[j] - v.t0) / span * slices));
        var b = Math.min(BINS - 1, Math.max(0, Math.floor((ll - lmin) / lspan * BINS)));
        hist[sIdx * BINS + b]++; sliceN[sIdx]++;
      }
    }
    if (dense) g.putImageData(img, 0, 0); // first: it replaces pixels rather than blending
    drawAxis(C, 0); drawBands(C, AXIS, false);
    g.fillStyle = "#555"; g.font = "10px sans-serif"; g.strokeStyle = "#e8e8e8";
    for (var e = 1; e <= lmax; e++) { var yy = yOf(Math.pow(10, e)); g.fillText(fmtTime(Math.pow(10, e)), 2, yy + 3); g.beginPath(); g.moveTo(GUTTER, yy); g.lineTo(C.w, yy); g.stroke(); }
    [[0.5, "#1a7f37"], [0.99, "#c62828"]].forEach(function (q) {
      g.strokeStyle = q[1]; g.lineWidth = 1.5; g.beginPath(); var first = true;
      for (var s = 0; s < slices; s++) {
        if (!sliceN[s]) continue;
        var want = q[0] * sliceN[s], seen = 0, b = 0;
        for (; b < BINS; b++) { seen += hist[s * BINS + b]; if (seen >= want) break; }
        var x = GUTTER + (s + 0.5) / slices * plotW, y = bottom - (b + 0.5) / BINS * plotH;
        if (first) g.moveTo(x, y); else g.lineTo(x, y); first = false;
      }
      g.stroke(); g.lineWidth = 1;
    });
    g.fillStyle = "#333"; g.font = "11px sans-serif"; g.fillText("latency (p50 green, p99 red)", GUTTER + 4, top + 10);
  }

  // Throughput: completions per second in each pixel slice, stacked by type.
  function drawThroughput() {
    var C = R, g = C.g, v = FL.view;
    g.clearRect(0, 0, C.w, C.h);
    drawAxis(C, 0); drawBands(C, AXIS, false);
    // Slices are at least 10 ms wide: narrower ones turn single ops into
    // meaningless rate spikes.
    var plotW = Math.ceil(C.w - GUTTER - 6), cols = Math.max(1, Math.min(Math.ceil(plotW / 3), Math.floor((v.t1 - v.t0) / 1e4)));
    var w = plotW / cols, cnt = new Float64Array(cols * 3), sliceUs = (v.t1 - v.t0) / cols;
    var range = visibleRange();
    for (var j = range[0]; j < range[1]; j++) {
      if (comp[j] < 0 || end[j] < v.t0 || end[j] > v.t1) continue;
      cnt[Math.min(cols - 1, Math.floor((end[j] - v.t0) / sliceUs)) * 3 + D.t[j]]++;
    }
    var maxRate = 1, perSec = 1e6 / sliceUs;
    for (var c = 0; c < cols; c++) maxRate = Math.max(maxRate, (cnt[c * 3] + cnt[c * 3 + 1] + cnt[c * 3 + 2]) * perSec);
    var bottom = C.h - 4, plotH = bottom - AXIS - 14;
    for (c = 0; c < cols; c++) {
      var y = bottom;
      for (var t = 0; t < 3; t++) {
        var h = cnt[c * 3 + t] * perSec / maxRate * plotH;
        if (!h) continue;
        g.fillStyle = COLORS[t]; g.fillRect(GUTTER + c * w, y - h, Math.max(1, w - 0.5), h); y -= h;
      }
    }
    g.fillStyle = "#333"; g.font = "11px sans-serif";
    g.fillText("throughput, peak " + Math.round(maxRate) + " ops/s", GUTTER + 4, AXIS + 10);
  }

  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; drawAll(); });
  }
  function drawAll() {
    var t0 = performance.now(); drawTimeline();
    var t1 = performance.now(); drawLatency();
    var t2 = performance.now(); drawThroughput();
    FL.timing = { timeline: t1 - t0, latency: t2 - t1, throughput: performance.now() - t2 };
  }
  function setView(t0, t1) {
    var span = Math.max(t1 - t0, 5);
    if (span >= tEnd) { t0 = 0; t1 = tEnd; }
    else { t0 = Math.max(0, Math.min(t0, tEnd - span)); t1 = t0 + span; }
    FL.view = { t0: t0, t1: t1 };
    redraw();
  }
  function zoom(f, atX) {
    var v = FL.view, t = atX === undefined ? (v.t0 + v.t1) / 2 : tOf(atX, T);
    setView(t - (t - v.t0) * f, t + (v.t1 - t) * f);
  }

  var msg = document.getElementById("tl-msg"), detail = document.getElementById("op-detail");
  function select(j, quiet) {
    FL.selectedPair = j;
    FL.selected = j >= 0 ? inv[j] : -1;
    if (j >= 0) detail.textContent = describe(j);
    if (!quiet) redraw();
  }
  // jump centres the timeline on the op with this index (an invocation or a
  // completion) and selects it.
  FL.jump = function (index, highlight) {
    FL.highlighted = (highlight || []).map(function (i) { return pairOf[i]; }).filter(function (j) { return j >= 0; });
    var j = index >= 0 && index < pairOf.length ? pairOf[index] : -1;
    if (j < 0) {
      var o = nemAt[index];
      if (!o) { msg.textContent = "no op #" + index + " in this history"; return false; }
      setView(o.t - 2e5, o.t + 2e5);
      detail.textContent = "#" + o.i + " nemesis " + o.type + " " + o.f + (o.v ? " " + o.v : "") + "\nat " + fmtTime(o.t);
      FL.selected = index; FL.selectedPair = -1;
      msg.textContent = "nemesis op #" + index;
      return true;
    }
    var marks = FL.highlighted.concat([j]), lo = Infinity, hi = -Infinity;
    marks.forEach(function (m) { lo = Math.min(lo, start[m]); hi = Math.max(hi, end[m]); });
    var pad = Math.max((hi - lo) * 0.6, 2000);
    setView(lo - pad, hi + pad);
    select(j, true);
    FL.selected = index;
    msg.textContent = "op #" + index;
    return true;
  };
  FL.findKey = function (key) {
    var id = D.keys.indexOf(key);
    if (id < 0) { msg.textContent = "no key " + JSON.stringify(key); return 0; }
    var c = 0, first = -1;
    for (var j = 0; j < n; j++) if (D.k[j] === id) { c++; if (first < 0) first = j; }
    FL.keyFilter = key; FL.highlighted = [];
    select(first, true);
    setView(start[first] - 2000, end[first] + 2000);
    msg.textContent = c + " ops on key " + key + " (others dimmed)";
    return c;
  };
  function search() {
    var q = document.getElementById("tl-search").value.trim();
    FL.keyFilter = null;
    if (!q) { redraw(); return; }
    var m = /^#?(\d+)$/.exec(q);
    if (m && FL.jump(parseInt(m[1], 10))) return;
    FL.findKey(q);
  }
  document.getElementById("tl-go").addEventListener("click", search);
  document.getElementById("tl-search").addEventListener("keydown", function (e) { if (e.key === "Enter") search(); });
  document.getElementById("tl-reset").addEventListener("click", function () { FL.keyFilter = null; FL.highlighted = []; setView(0, tEnd); });
  document.getElementById("tl-zoom-in").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("tl-zoom-out").addEventListener("click", function () { zoom(2); });

  document.querySelectorAll("a.anomaly-op").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      document.querySelectorAll("a.anomaly-op.selected").forEach(function (s) { s.classList.remove("selected"); });
      a.classList.add("selected");
      var li = a.closest("[data-ops]"), all = li ? li.getAttribute("data-ops").split(" ").map(Number) : [];
      FL.jump(parseInt(a.getAttribute("data-op"), 10), all);
      document.getElementById("timeline-section").scrollIntoView({ behavior: "instant", block: "start" });
    });
  });
  document.querySelectorAll("li.fault-band").forEach(function (li) {
    li.addEventListener("click", function (e) {
      e.preventDefault();
      var b = D.bands[+li.getAttribute("data-band")], pad = (b.end - b.start) * 0.2 + 1000;
      setView(b.start - pad, b.end + pad);
    });
  });

  // Pointer: wheel zooms at the cursor, drag pans, a click selects.
  function opAt(x, y) {
    var top = lanesTop(), r = Math.floor((y - top) / rowH);
    if (r < 0 || r >= rows) return -1;
    var t = tOf(x, T), tol = 3 * (FL.view.t1 - FL.view.t0) / (T.w - GUTTER), range = visibleRange(), best = -1, bestD = Infinity;
    for (var j = range[0]; j < range[1]; j++) {
      if (rowOf[j] !== r || end[j] < t - tol || start[j] > t + tol) continue;
      var d = t < start[j] ? start[j] - t : t > end[j] ? t - end[j] : 0;
      if (d < bestD) { bestD = d; best = j; }
    }
    return best;
  }
  var drag = null, tip = document.getElementById("tooltip");
  tl.addEventListener("wheel", function (e) {
    e.preventDefault();
    var rect = tl.getBoundingClientRect();
    zoom(Math.exp(e.deltaY * 0.0015), e.clientX - rect.left);
  }, { passive: false });
  tl.addEventListener("pointerdown", function (e) { drag = { x: e.clientX, v: FL.view, moved: false }; tl.setPointerCapture(e.pointerId); tl.style.cursor = "grabbing"; });
  tl.addEventListener("pointermove", function (e) {
    var rect = tl.getBoundingClientRect(), x = e.clientX - rect.left, y = e.clientY - rect.top;
    if (drag) {
      var dx = e.clientX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      var dt = dx / (T.w - GUTTER - 6) * (drag.v.t1 - drag.v.t0);
      setView(drag.v.t0 - dt, drag.v.t1 - dt);
      tip.hidden = true;
      return;
    }
    var mi = markerAt(x, y);
    if (mi >= 0) {
      var gr = markerGroups[markers[mi].g];
      tip.textContent = gr.type + " (" + gr.checker + ")" + (markers[mi].k ? " on key " + markers[mi].k : "") + "\nclick to outline its ops";
      tip.style.left = Math.min(x + 12, T.w - 260) + "px"; tip.style.top = (y + 14) + "px";
      tip.hidden = false;
      return;
    }
    var j = opAt(x, y);
    if (j < 0) { tip.hidden = true; return; }
    tip.textContent = describe(j);
    tip.style.left = Math.min(x + 12, T.w - 260) + "px"; tip.style.top = (y + 14) + "px";
    tip.hidden = false;
  });
  tl.addEventListener("pointerleave", function () { tip.hidden = true; });
  tl.addEventListener("pointerup", function (e) {
    var rect = tl.getBoundingClientRect();
    if (drag && !drag.moved) {
      var mx = e.clientX - rect.left, my = e.clientY - rect.top, mi = markerAt(mx, my);
      if (mi >= 0) FL.showMarker(mi);
      else { var j = opAt(mx, my); if (j >= 0) select(j); }
    }
    drag = null; tl.style.cursor = "grab";
  });
  window.addEventListener("resize", function () { layout(); redraw(); });
  FL.setLanes = function (mode) { setLanes(mode); layout(); drawAll(); };
  document.getElementById("tl-lanes").addEventListener("change", function (e) { FL.setLanes(e.target.value); });
  // A link to a collapsed group of anomalies opens it.
  function openGroup(id) { var d = document.getElementById(id); if (d && d.tagName === "DETAILS") d.open = true; }
  document.querySelectorAll("a.group-link").forEach(function (a) {
    a.addEventListener("click", function () { openGroup(a.getAttribute("href").slice(1)); });
  });
  if (location.hash) openGroup(location.hash.slice(1));

  FL.draw = drawAll; // synchronous redraw, for measuring and for tests
  layout();
  drawAll();
  FL.ready = true;
})();
