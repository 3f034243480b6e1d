/* refscope html: the page's only script (inlined into every report). It reads data the
 * page carries (JSON in <script type="application/json">) and only ever puts text into the
 * page with textContent / title, never as markup. */
"use strict";
(function () {
  function $(id) { return document.getElementById(id); }

  /* Rows that open a detail row below them (leak suspects, sites, cycles). */
  document.querySelectorAll("tr.expandable").forEach(function (row) {
    row.addEventListener("click", function () {
      var detail = $(row.getAttribute("data-detail"));
      if (!detail) return;
      detail.hidden = !detail.hidden;
      row.classList.toggle("open", !detail.hidden);
    });
  });

  /* ---- flame graph ------------------------------------------------------------------ */
  var dataEl = $("flame-data");
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var box = $("flame"), info = $("flame-info");
  var pointSel = $("flame-point"), threadSel = $("flame-thread"), search = $("flame-search");
  var ROW = 18;
  var current = null, zoom = 0;

  function fmtBytes(n) {
    var u = ["bytes", "kB", "MB", "GB", "TB"], i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + u[i];
  }

  /* Children lists, heaviest first, and depths. */
  data.trees.forEach(function (t) {
    t.kids = t.nodes.map(function () { return []; });
    t.depth = t.nodes.map(function () { return 0; });
    t.nodes.forEach(function (n, i) {
      if (n[0] >= 0) { t.kids[n[0]].push(i); t.depth[i] = t.depth[n[0]] + 1; }
    });
    t.kids.forEach(function (k) { k.sort(function (a, b) { return t.nodes[b][2] - t.nodes[a][2]; }); });
  });

  function points() {
    var seen = [];
    data.trees.forEach(function (t) { if (seen.indexOf(t.point) < 0) seen.push(t.point); });
    return seen;
  }
  function fill(sel, values, labels) {
    while (sel.firstChild) sel.removeChild(sel.firstChild);
    values.forEach(function (v, i) {
      var o = document.createElement("option");
      o.value = v; o.textContent = labels ? labels[i] : v;
      sel.appendChild(o);
    });
  }
  function refreshThreads() {
    var idx = [], labels = [];
    data.trees.forEach(function (t, i) {
      if (t.point === pointSel.value) { idx.push(String(i)); labels.push(t.title); }
    });
    var keep = current ? current.title : null;
    fill(threadSel, idx, labels);
    for (var k = 0; k < labels.length; k++) if (labels[k] === keep) threadSel.value = idx[k];
  }

  function render() {
    var t = data.trees[+threadSel.value];
    if (!t) return;
    if (t !== current) { current = t; zoom = 0; }
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!t.nodes.length || !t.nodes[0][2]) {
      box.style.height = "40px";
      info.textContent = "Nothing live here.";
      return;
    }
    var q = search.value.trim().toLowerCase();
    var zw = t.nodes[zoom][2] || 1, maxDepth = 0, matched = 0;
    /* the zoomed node's ancestors, full width */
    var chain = [], a = zoom;
    while (a >= 0) { chain.unshift(a); a = t.nodes[a][0]; }
    function place(i, x, w, depth, under) {
      var n = t.nodes[i], name = data.names[n[1]];
      if (w < 0.0005) return;
      var hit = q && name.toLowerCase().indexOf(q) >= 0;
      if (hit && !under) { matched += n[2]; }
      var d = document.createElement("div");
      d.className = "fr k" + data.kinds[n[1]] + (hit ? " hit" : "") + (depth < chain.length - 1 ? " dim" : "");
      d.style.left = (x * 100) + "%";
      d.style.width = (w * 100) + "%";
      d.style.top = (depth * ROW) + "px";
      d.textContent = name;
      d.title = name + "\n" + fmtBytes(n[2]) + " in " + n[3] + " block" + (n[3] === 1 ? "" : "s") +
        " (" + (100 * n[2] / t.nodes[0][2]).toFixed(1) + "% of " + fmtBytes(t.nodes[0][2]) + ")";
      d.setAttribute("data-node", i);
      box.appendChild(d);
      if (depth > maxDepth) maxDepth = depth;
      var cx = x;
      t.kids[i].forEach(function (k) {
        var kw = w * t.nodes[k][2] / (n[2] || 1);
        place(k, cx, kw, depth + 1, under || hit);
        cx += kw;
      });
    }
    for (var c = 0; c < chain.length - 1; c++) {
      var n = t.nodes[chain[c]], d = document.createElement("div");
      d.className = "fr dim k" + data.kinds[n[1]];
      d.style.left = "0%"; d.style.width = "100%"; d.style.top = (c * ROW) + "px";
      d.textContent = data.names[n[1]];
      d.title = "zoomed in: click to zoom out here";
      d.setAttribute("data-node", chain[c]);
      box.appendChild(d);
    }
    place(zoom, 0, 1, chain.length - 1, false);
    box.style.height = ((maxDepth + 1) * ROW + 4) + "px";
    var text = fmtBytes(t.nodes[0][2]) + " in " + t.nodes[0][3] + " blocks";
    if (zoom) text += "; zoomed on " + fmtBytes(zw) + " (click a frame above to zoom out)";
    if (q) text += "; matching \u201c" + search.value.trim() + "\u201d: " + fmtBytes(matched) +
      " (" + (100 * matched / t.nodes[0][2]).toFixed(1) + "%)";
    if (t.merged) text += "; " + t.merged + " of " + t.total_nodes +
      " frames merged into \u201c(smaller frames, merged)\u201d to keep the page small";
    info.textContent = text;
  }

  box.addEventListener("click", function (e) {
    var el = e.target.closest(".fr");
    if (!el) return;
    zoom = +el.getAttribute("data-node");
    render();
  });
  fill(pointSel, points(), points().map(function (p) {
    return p === "exit" ? "alive at exit" : p === "peak" ? "alive at the peak" : p;
  }));
  pointSel.addEventListener("change", function () { refreshThreads(); render(); });
  threadSel.addEventListener("change", render);
  search.addEventListener("input", render);
  $("flame-reset").addEventListener("click", function () { zoom = 0; search.value = ""; render(); });
  refreshThreads();
  render();
})();
