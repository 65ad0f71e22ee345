// chipwatch dashboard: render embedded Plotly figures (with PNG/SVG/CSV downloads and layouts
// that fit phones), sortable/filterable tables with downloads of what is shown, and the control
// map's selection. No inline scripts or handlers: the pages stay CSP-compatible.
"use strict";

var LANG = document.documentElement.lang || "en";
function t(en, zh) { return LANG === "zh-CN" ? zh : en; }

// ---- charts -------------------------------------------------------------------------------

// Wrap a title to at most `max` characters a line (Plotly does not wrap titles itself).
function wrapText(text, max) {
  if (!text || text.length <= max || text.indexOf("<br>") >= 0) return text;
  var words = text.split(" "), lines = [], line = "";
  if (words.length === 1) {  // e.g. Chinese: no spaces, cut by characters
    for (var i = 0; i < text.length; i += max) lines.push(text.slice(i, i + max));
    return lines.join("<br>");
  }
  words.forEach(function (w) {
    if (line && (line + " " + w).length > max) { lines.push(line); line = w; }
    else { line = line ? line + " " + w : w; }
  });
  if (line) lines.push(line);
  return lines.join("<br>");
}

function charWidth() { return LANG === "zh-CN" ? 15 : 8; }

// Titles and subplot titles that fit the chart's width (phones: 390 px).
function fitLayout(el, fig) {
  var width = el.clientWidth || 600;
  var layout = fig.layout || {};
  var narrow = width < 560;
  if (layout.title && layout.title.text) {
    var wrapped = wrapText(layout.title.text, Math.max(20, Math.floor(width / charWidth())));
    var lines = wrapped.split("<br>").length;
    layout.title.text = wrapped;
    layout.margin = layout.margin || {};
    layout.margin.t = Math.max(layout.margin.t || 50, 26 + 20 * lines);
  }
  var subplots = (layout.annotations || []).filter(function (a) {
    return a.xref === "paper" && a.yref === "paper" && a.yanchor === "bottom" && a.y >= 0.99;
  });
  if (subplots.length) {
    var each = width / subplots.length;
    subplots.forEach(function (a) {
      a.text = wrapText(a.text, Math.max(10, Math.floor(each / (charWidth() - 1))));
      a.font = Object.assign({}, a.font || {}, { size: narrow ? 11 : 13 });
    });
  }
  if (narrow && layout.annotations) {  // no room for point labels on a phone: hover names them
    layout.annotations = layout.annotations.filter(function (a) { return a.name !== "chip-label"; });
  }
  if (narrow) {
    layout.legend = Object.assign({}, layout.legend || {}, { orientation: "h", y: -0.3,
                                                             font: { size: 10 } });
    layout.margin = Object.assign({}, layout.margin || {}, { l: 50, r: 10 });
    if (layout.title) layout.title.font = Object.assign({}, layout.title.font || {}, { size: 13 });
  }
  return layout;
}

// Point labels placed by the server for a typical width: at the drawn size, hide any that would
// cover another label or a title (hover and click still name every point).
function hideCollidingLabels(el) {
  var anns = (el.layout && el.layout.annotations) || [];
  var nodes = el.querySelectorAll(".annotation");
  var placed = [], hide = {};
  el.querySelectorAll(".gtitle").forEach(function (t) { placed.push(t.getBoundingClientRect()); });
  anns.forEach(function (a, i) {
    var node = nodes[i];
    if (!node) return;
    var box = node.querySelector(".annotation-text-g") || node;
    var r = box.getBoundingClientRect();
    if (a.name !== "chip-label") { placed.push(r); return; }
    var clash = placed.some(function (p) {
      return r.left < p.right && p.left < r.right && r.top < p.bottom && p.top < r.bottom;
    });
    if (clash) hide["annotations[" + i + "].visible"] = false; else placed.push(r);
  });
  return Object.keys(hide).length ? Plotly.relayout(el, hide) : Promise.resolve();
}

function renderCharts(root) {
  (root || document).querySelectorAll("div.chart[data-figure]").forEach(function (el) {
    var src = document.getElementById(el.dataset.figure);
    if (!src || el.dataset.rendered || typeof Plotly === "undefined") return;
    var fig = JSON.parse(src.textContent);
    el._figure = fig;
    Plotly.newPlot(el, fig.data, fitLayout(el, fig), {
      responsive: true, displaylogo: false,
      toImageButtonOptions: { filename: el.id }
    }).then(function () {
      return hideCollidingLabels(el);
    }).then(function () {
      el.dataset.rendered = "1";
      el.dispatchEvent(new CustomEvent("chart-rendered", { bubbles: true }));
    });
  });
}

function csvCell(v) {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) v = v.join("; ");
  var s = String(v);
  return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function toCsv(columns, rows) {
  return [columns.map(csvCell).join(",")].concat(rows.map(function (r) {
    return columns.map(function (c) { return csvCell(r[c]); }).join(",");
  })).join("\n") + "\n";
}

// A chart's data as CSV: one row per point, with its series.
function chartRows(fig) {
  var rows = [];
  (fig.data || []).forEach(function (tr) {
    var n = Math.max((tr.x || []).length, (tr.y || []).length);
    if (tr.hoverinfo === "skip" && tr.fill) return;  // shaded regions, not data
    for (var i = 0; i < n; i++) {
      rows.push({
        series: tr.name || "",
        x: tr.x ? tr.x[i] : "",
        y: tr.y ? tr.y[i] : "",
        label: Array.isArray(tr.text) ? tr.text[i] : (tr.text || ""),
        id: Array.isArray(tr.customdata) ? tr.customdata[i] : ""
      });
    }
  });
  return rows;
}

function saveBlob(text, type, filename) {
  var url = URL.createObjectURL(new Blob([text], { type: type }));
  var a = document.createElement("a");
  a.href = url; a.download = filename;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
}

function chartTools() {
  document.querySelectorAll(".chart-tools").forEach(function (box) {
    box.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[data-download]");
      if (!btn) return;
      var el = document.getElementById(box.dataset.chart);
      if (!el || !el._figure) return;
      var kind = btn.dataset.download;
      if (kind === "csv") {
        saveBlob(toCsv(["series", "x", "y", "label", "id"], chartRows(el._figure)),
                 "text/csv", el.id + ".csv");
      } else {
        Plotly.downloadImage(el, { format: kind, filename: el.id,
                                   width: el.clientWidth || 900, height: el.clientHeight || 450 });
      }
    });
  });
}

// ---- tables -------------------------------------------------------------------------------

function sortableTable(table) {
  var headers = table.querySelectorAll("th");
  headers.forEach(function (th, idx) {
    function sort() {
      var asc = !th.classList.contains("asc");
      headers.forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var ca = a.cells[idx], cb = b.cells[idx];
        var na = ca.dataset.sort, nb = cb.dataset.sort;
        if (na !== undefined || nb !== undefined) {
          if (na === undefined) return 1;   // missing numbers last, either way
          if (nb === undefined) return -1;
          return asc ? na - nb : nb - na;
        }
        var ta = ca.textContent.trim(), tb = cb.textContent.trim();
        return asc ? ta.localeCompare(tb) : tb.localeCompare(ta);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
  });
}

// The rows and columns the reader sees, in the order shown, with raw values (data-value).
function shownRows(table) {
  var cols = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) {
    return th.dataset.col;
  });
  var rows = [];
  Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
    if (tr.hidden) return;
    var row = {};
    Array.prototype.forEach.call(tr.cells, function (td, i) {
      var v = td.dataset.value !== undefined ? td.dataset.value : td.textContent.trim();
      row[cols[i]] = td.dataset.sort !== undefined ? Number(td.dataset.sort) :
        (v === "" ? null : v);
    });
    rows.push(row);
  });
  return { columns: cols, rows: rows };
}

function chipFilters() {
  var table = document.getElementById("chips-table");
  if (!table) return;
  var text = document.getElementById("chip-filter");
  var vendor = document.getElementById("vendor-filter");
  var segment = document.getElementById("segment-filter");
  var license = document.getElementById("license-filter");
  var count = document.getElementById("chip-count");
  function apply() {
    var q = text.value.trim().toLowerCase(), shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var show = (!q || r.dataset.text.toLowerCase().indexOf(q) >= 0) &&
        (!vendor.value || r.dataset.vendor === vendor.value) &&
        (!segment.value || r.dataset.segment === segment.value) &&
        (!license.value || r.dataset.license === license.value);
      r.hidden = !show;
      if (show) shown++;
    });
    count.textContent = String(shown);
  }
  [text, vendor, segment, license].forEach(function (el) { el.addEventListener("input", apply); });
  document.querySelectorAll("#download-csv, #download-json").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      var shown = shownRows(table);
      var meta = { destination: table.dataset.destination, date: table.dataset.date };
      if (a.dataset.format === "json") {
        saveBlob(JSON.stringify({ count: shown.rows.length, license_for: meta,
                                  chips: shown.rows }, null, 2),
                 "application/json", "chips.json");
      } else {
        saveBlob(toCsv(shown.columns, shown.rows), "text/csv", "chips.csv");
      }
    });
  });
  apply();
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

// ---- control map --------------------------------------------------------------------------

function setUrlParam(key, value) {
  var url = new URL(window.location.href);
  if (value) url.searchParams.set(key, value); else url.searchParams.delete(key);
  window.history.replaceState(null, "", url.toString());
}

function classify(chip) {
  var panel = document.getElementById("classification");
  if (!panel) return;
  var q = new URLSearchParams({ chip: chip, date: panel.dataset.date,
                                destination: panel.dataset.destination });
  panel.dataset.selected = chip;
  setUrlParam("chip", chip);
  var hidden = document.getElementById("map-chip");
  if (hidden) hidden.value = chip;
  document.querySelectorAll("#map-table tr.selected").forEach(function (r) {
    r.classList.remove("selected");
  });
  var row = document.querySelector('#map-table tr[data-chip="' + CSS.escape(chip) + '"]');
  if (row) row.classList.add("selected");
  panel.innerHTML = "<p>" + escapeHtml(t("Classifying ", "正在判定 ") + chip) + "…</p>";
  fetch("/api/classify?" + q.toString()).then(function (r) { return r.json(); })
    .then(function (c) { panel.innerHTML = classificationHtml(c); })
    .catch(function (e) { panel.textContent = t("Could not classify: ", "无法判定：") + e; });
}

// A group of chips drawn at the same point: list them, each a link that classifies it.
function showGroup(ids) {
  var panel = document.getElementById("classification");
  panel.dataset.selected = ids.join(",");
  panel.innerHTML = "<h2>" + escapeHtml(t("Chips at this point", "此处的芯片")) + "</h2><ul id='group-list'>" +
    ids.map(function (id) {
      return "<li><a href='/chips/" + encodeURIComponent(id) + "' class='classify-link' data-chip='" +
        escapeHtml(id) + "'>" + escapeHtml(id) + "</a></li>";
    }).join("") + "</ul>";
}

function controlMapClicks() {
  var el = document.getElementById("control-map");
  var panel = document.getElementById("classification");
  if (!panel) return;
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest("a.classify-link");
    if (!a || ev.metaKey || ev.ctrlKey) return;
    ev.preventDefault();
    classify(a.dataset.chip);
  });
  if (panel.dataset.selected) classify(panel.dataset.selected);
  if (!el) return;
  el.addEventListener("chart-rendered", function () {
    el.on("plotly_click", function (ev) {
      var pt = ev.points && ev.points[0];
      if (!pt || !pt.customdata) return;
      var ids = String(Array.isArray(pt.customdata) ? pt.customdata[0] : pt.customdata).split(",");
      if (ids.length > 1) showGroup(ids); else classify(ids[0]);
    });
  });
}

// Unknown is not "no": null is undetermined (missing inputs) or not released yet, never green.
function licenseText(c) {
  if (c.license_required === null || c.license_required === undefined) {
    if (c.status === "not_released") {
      return t("not released on this date: no ruling", "该日期尚未发布：无判定");
    }
    return t("undetermined", "无法确定") + (c.missing_inputs && c.missing_inputs.length ?
      " (" + t("missing", "缺少") + ": " + c.missing_inputs.join("; ") + ")" : "");
  }
  return c.license_required ? t("license required", "需要许可证") :
    t("no license required", "无需许可证");
}

function classificationHtml(c) {
  if (c.error) return "<p class='error'>" + escapeHtml(c.message) + "</p>";
  var tests = (c.tests || []).map(function (x) {
    return "<li>" + escapeHtml(x.explanation || x.text || JSON.stringify(x)) + "</li>";
  }).join("");
  var actions = (c.actions || []).map(function (a) {
    return "<li>" + escapeHtml(a.title || a.id || JSON.stringify(a)) + "</li>";
  }).join("");
  var needed = c.license_required;
  var status = needed === null || needed === undefined ? t("undetermined", "无法确定") :
    (needed ? t("license required", "需要许可证") : t("no license required", "无需许可证"));
  return "<h2 data-chip='" + escapeHtml(c.chip) + "'>" + escapeHtml(c.chip_name || c.chip) +
    " <small>(" + escapeHtml(c.chip) + ")</small></h2>" +
    "<p>" + escapeHtml(c.eccn ? t("Meets ", "符合 ") + c.eccn : t("Outside 3A090", "不属于 3A090")) +
    "; " + escapeHtml(licenseText(c)) + ".</p>" +
    "<dl class='kv'><dt>" + t("Date", "日期") + "</dt><dd>" + escapeHtml(c.date) + "</dd>" +
    "<dt>" + t("Destination", "目的地") + "</dt><dd>" + escapeHtml(c.destination) + "</dd>" +
    "<dt>ECCN</dt><dd>" + escapeHtml(c.eccn || t("none (not in 3A090)", "无（不属于 3A090）")) + "</dd>" +
    "<dt>" + t("License required", "需要许可证") + "</dt><dd class='" +
    (needed === null || needed === undefined ? "status-unknown" :
      (needed ? "status-yes" : "status-no")) + "'>" +
    escapeHtml(needed === null || needed === undefined ? licenseText(c) : status) + "</dd>" +
    "<dt>" + t("Policy", "审批政策") + "</dt><dd>" +
    escapeHtml(String(c.licensing_policy || "").replace(/_/g, " ")) + "</dd>" +
    "<dt>TPP / PD</dt><dd>" + escapeHtml(c.tpp === null ? t("unknown", "未知") : Math.round(c.tpp)) +
    " / " + escapeHtml(c.performance_density === null ? t("unknown", "未知") :
                       c.performance_density.toFixed(2)) + "</dd></dl>" +
    (tests ? "<h3>" + t("Threshold tests", "门槛检验") + "</h3><ul>" + tests + "</ul>" : "") +
    (actions ? "<h3>" + t("Chip-specific actions", "针对该芯片的措施") + "</h3><ul>" + actions + "</ul>" : "");
}

// Control map: the slider walks day by day from the first rule (7 Oct 2022) to today; releasing
// it reloads the map for that date (the selected chip stays in the URL).
function dateSlider() {
  var slider = document.getElementById("map-slider");
  var input = document.getElementById("map-date");
  if (!slider || !input) return;
  var start = new Date(slider.dataset.start + "T00:00:00Z");
  function dateAt(days) {
    return new Date(start.getTime() + days * 86400000).toISOString().slice(0, 10);
  }
  slider.addEventListener("input", function () { input.value = dateAt(Number(slider.value)); });
  slider.addEventListener("change", function () {
    input.value = dateAt(Number(slider.value));
    showLoading();
    input.form.submit();
  });
}

// A visible "working" state while a form reloads the page (long computations).
function showLoading() {
  var el = document.getElementById("page-loading");
  if (el) el.hidden = false;
}

function loadingOnSubmit() {
  document.querySelectorAll("form.controls, form.filters").forEach(function (f) {
    f.addEventListener("submit", showLoading);
  });
  window.addEventListener("pageshow", function () {
    var el = document.getElementById("page-loading");
    if (el) el.hidden = true;
  });
}

document.addEventListener("DOMContentLoaded", function () {
  renderCharts(document);
  chartTools();
  document.querySelectorAll("table.sortable").forEach(sortableTable);
  chipFilters();
  controlMapClicks();
  dateSlider();
  loadingOnSubmit();
});
