// chipwatch dashboard: render embedded Plotly figures, sortable/filterable tables, chart clicks.
"use strict";

function renderCharts(root) {
  (root || document).querySelectorAll("div.chart[data-figure]").forEach(function (el) {
    var src = document.getElementById(el.dataset.figure);
    if (!src || el.dataset.rendered) return;
    var fig = JSON.parse(src.textContent);
    Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false })
      .then(function () {
        el.dataset.rendered = "1";
        el.dispatchEvent(new CustomEvent("chart-rendered", { bubbles: true }));
      });
  });
}

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

function chipFilters() {
  var table = document.getElementById("chips-table");
  if (!table) return;
  var text = document.getElementById("chip-filter");
  var vendor = document.getElementById("vendor-filter");
  var segment = document.getElementById("segment-filter");
  function apply() {
    var t = text.value.trim().toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var show = (!t || r.dataset.text.toLowerCase().indexOf(t) >= 0) &&
        (!vendor.value || r.dataset.vendor === vendor.value) &&
        (!segment.value || r.dataset.segment === segment.value);
      r.hidden = !show;
    });
  }
  [text, vendor, segment].forEach(function (el) { el.addEventListener("input", apply); });
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

// Control map: clicking a chip fetches its classification from the API.
function controlMapClicks() {
  var el = document.getElementById("control-map");
  var panel = document.getElementById("classification");
  if (!el || !panel) return;
  el.addEventListener("chart-rendered", function () {
    el.on("plotly_click", function (ev) {
      var pt = ev.points && ev.points[0];
      if (!pt || !pt.customdata) return;
      var chip = Array.isArray(pt.customdata) ? pt.customdata[0] : pt.customdata;
      var q = new URLSearchParams({ chip: chip, date: panel.dataset.date,
                                    destination: panel.dataset.destination });
      panel.innerHTML = "<p>Classifying " + escapeHtml(chip) + "…</p>";
      fetch("/api/classify?" + q.toString()).then(function (r) { return r.json(); })
        .then(function (c) { panel.innerHTML = classificationHtml(c); })
        .catch(function (e) { panel.textContent = "Could not classify: " + e; });
    });
  });
}

// Unknown is not "no": null is undetermined (missing inputs) or not released yet, never green.
function licenseText(c) {
  if (c.license_required === null || c.license_required === undefined) {
    if (c.status === "not_released") return "not released on this date: no ruling";
    return "undetermined" + (c.missing_inputs && c.missing_inputs.length ?
      " (missing: " + c.missing_inputs.join("; ") + ")" : "");
  }
  return c.license_required ? "license required" : "no license required";
}

function classificationHtml(c) {
  if (c.error) return "<p class='error'>" + escapeHtml(c.message) + "</p>";
  var tests = (c.tests || []).map(function (t) {
    return "<li>" + escapeHtml(t.explanation || t.text || JSON.stringify(t)) + "</li>";
  }).join("");
  var actions = (c.actions || []).map(function (a) {
    return "<li>" + escapeHtml(a.title || a.id || JSON.stringify(a)) + "</li>";
  }).join("");
  return "<h2 data-chip='" + escapeHtml(c.chip) + "'>" + escapeHtml(c.chip_name || c.chip) +
    " <small>(" + escapeHtml(c.chip) + ")</small></h2>" +
    "<p>" + escapeHtml(c.eccn ? "Meets " + c.eccn : "Outside 3A090") + "; " +
    escapeHtml(licenseText(c)) + ".</p>" +
    "<dl class='kv'><dt>Date</dt><dd>" + escapeHtml(c.date) + "</dd>" +
    "<dt>Destination</dt><dd>" + escapeHtml(c.destination) + "</dd>" +
    "<dt>ECCN</dt><dd>" + escapeHtml(c.eccn || "none (not in 3A090)") + "</dd>" +
    "<dt>License required</dt><dd class='" + (c.license_required === null ? "status-unknown" :
      (c.license_required ? "status-yes" : "status-no")) +
    "'>" + escapeHtml(c.license_required === null ? licenseText(c) :
      (c.license_required ? "yes" : "no")) + "</dd>" +
    "<dt>Policy</dt><dd>" + escapeHtml(c.licensing_policy) + "</dd>" +
    "<dt>TPP / PD</dt><dd>" + escapeHtml(c.tpp === null ? "unknown" : Math.round(c.tpp)) +
    " / " + escapeHtml(c.performance_density === null ? "unknown" :
                       c.performance_density.toFixed(2)) + "</dd></dl>" +
    (tests ? "<h3>Threshold tests</h3><ul>" + tests + "</ul>" : "") +
    (actions ? "<h3>Chip-specific actions</h3><ul>" + actions + "</ul>" : "");
}

// Control map: the slider walks day by day from the first rule (7 Oct 2022) to today; releasing
// it reloads the map for that date.
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
    input.form.submit();
  });
}

document.addEventListener("DOMContentLoaded", function () {
  renderCharts(document);
  document.querySelectorAll("table.sortable").forEach(sortableTable);
  chipFilters();
  controlMapClicks();
  dateSlider();
});
