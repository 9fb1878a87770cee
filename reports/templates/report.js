// CloudScreen report: the findings table (filter, sort, page, expand) over the JSON blob in
// #findings-data. Values from AWS only ever reach the DOM through textContent or setAttribute.
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js");

  var dataEl = document.getElementById("findings-data");
  var tbody = document.getElementById("findings-body");
  if (!dataEl || !tbody) { return; }

  var blob = JSON.parse(dataEl.textContent);
  var rows = blob.rows;
  var checks = blob.checks;
  var C = {};
  blob.columns.forEach(function (name, i) { C[name] = i; });

  var SEV_ORDER = ["critical", "high", "medium", "low", "informational"];
  var STATUS_ORDER = ["FAIL", "ERROR", "MUTED", "PASS", "SKIPPED"];
  var SEV_RANK = {}, STATUS_RANK = {};
  SEV_ORDER.forEach(function (s, i) { SEV_RANK[s] = i; });
  STATUS_ORDER.forEach(function (s, i) { STATUS_RANK[s] = i; });
  var FRAMEWORK_LABELS = {"cis-aws-3.0": "CIS AWS 3.0", "aws-fsbp": "AWS FSBP", "aws-securityhub": "Security Hub"};
  var PILLAR_LABELS = {
    security: "Security", reliability: "Reliability", operational_excellence: "Operational excellence",
    performance_efficiency: "Performance efficiency", cost_optimization: "Cost optimization",
    sustainability: "Sustainability"
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function info(r) { return checks[r[C.check_id]] || {}; }
  function field(r, name) {
    var v = r[C[name]];
    return v === null || v === undefined ? info(r)[name] : v;
  }
  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  // -- state --
  var state = {
    filters: {severity: "", status: "", service: "", account_id: "", region: ""},
    text: "",
    sortKey: "default",
    sortDir: 1,
    page: 0,
    pageSize: parseInt(($("p-size") || {}).value, 10) || 100
  };
  var view = [];          // indices into rows, filtered and sorted
  var expanded = {};      // row index -> true
  var haystack = null;    // lowercase search text per row, built on the first search

  // -- filters --
  var FILTERS = [
    ["f-severity", "severity", SEV_ORDER],
    ["f-status", "status", STATUS_ORDER],
    ["f-service", "service", null],
    ["f-account", "account_id", null],
    ["f-region", "region", null]
  ];

  function fillSelects() {
    FILTERS.forEach(function (spec) {
      var select = $(spec[0]);
      if (!select) { return; }
      var counts = {};
      for (var i = 0; i < rows.length; i++) {
        var v = rows[i][C[spec[1]]];
        counts[v] = (counts[v] || 0) + 1;
      }
      var values = spec[2] ? spec[2].filter(function (v) { return counts[v]; }) : Object.keys(counts).sort();
      values.forEach(function (v) {
        var option = el("option", null, v + " (" + counts[v] + ")");
        option.value = v;
        select.appendChild(option);
      });
      select.addEventListener("change", function () {
        state.filters[spec[1]] = select.value;
        refresh();
      });
    });
  }

  function buildHaystack() {
    haystack = new Array(rows.length);
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      haystack[i] = [r[C.check_id], field(r, "title"), r[C.resource_id], r[C.resource_arn] || "",
        r[C.resource_type], r[C.message], r[C.account_id], r[C.region], r[C.service]].join("\n").toLowerCase();
    }
  }

  function matches(i) {
    var r = rows[i], f = state.filters;
    if (f.severity && r[C.severity] !== f.severity) { return false; }
    if (f.status && r[C.status] !== f.status) { return false; }
    if (f.service && r[C.service] !== f.service) { return false; }
    if (f.account_id && r[C.account_id] !== f.account_id) { return false; }
    if (f.region && r[C.region] !== f.region) { return false; }
    if (state.text) {
      var terms = state.text.split(/\s+/);
      for (var t = 0; t < terms.length; t++) {
        if (terms[t] && haystack[i].indexOf(terms[t]) === -1) { return false; }
      }
    }
    return true;
  }

  // -- sorting --
  var SORTS = {
    severity: function (a, b) { return cmp(SEV_RANK[rows[a][C.severity]], SEV_RANK[rows[b][C.severity]]); },
    status: function (a, b) { return cmp(STATUS_RANK[rows[a][C.status]], STATUS_RANK[rows[b][C.status]]); },
    check: function (a, b) { return cmp(field(rows[a], "title"), field(rows[b], "title")); },
    service: function (a, b) { return cmp(rows[a][C.service], rows[b][C.service]); },
    account: function (a, b) { return cmp(rows[a][C.account_id], rows[b][C.account_id]); },
    region: function (a, b) { return cmp(rows[a][C.region], rows[b][C.region]); },
    resource: function (a, b) { return cmp(rows[a][C.resource_id], rows[b][C.resource_id]); }
  };

  // Triage order: failures first, worst severity first, then by place and resource.
  function defaultOrder(a, b) {
    return SORTS.status(a, b) || SORTS.severity(a, b) || SORTS.account(a, b) || SORTS.region(a, b) ||
      SORTS.service(a, b) || cmp(rows[a][C.check_id], rows[b][C.check_id]) || SORTS.resource(a, b) || a - b;
  }

  function sortView() {
    var key = state.sortKey, dir = state.sortDir;
    var primary = SORTS[key];
    view.sort(primary ? function (a, b) { return dir * primary(a, b) || defaultOrder(a, b); } : defaultOrder);
    var headers = document.querySelectorAll("#findings-table th[data-sort]");
    for (var i = 0; i < headers.length; i++) {
      var th = headers[i];
      th.setAttribute("aria-sort", th.getAttribute("data-sort") === key ?
        (dir === 1 ? "ascending" : "descending") : "none");
    }
  }

  function refresh() {
    if (state.text && !haystack) { buildHaystack(); }
    view = [];
    for (var i = 0; i < rows.length; i++) {
      if (matches(i)) { view.push(i); }
    }
    sortView();
    state.page = 0;
    render();
  }

  // -- rendering --
  function badge(cls, text) { return el("span", cls, text); }

  function cell(row, content, cls) {
    var td = el("td", cls);
    if (typeof content === "string") { td.textContent = content; } else if (content) { td.appendChild(content); }
    row.appendChild(td);
    return td;
  }

  function twoLine(main, sub, subCls) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el("span", "cell-main", main));
    if (sub) { frag.appendChild(el("span", subCls || "cell-sub", sub)); }
    return frag;
  }

  function renderRow(i, frag) {
    var r = rows[i];
    var tr = el("tr", "finding status-row-" + r[C.status]);
    var detailId = "finding-detail-" + i;
    var td = el("td", "expand-col");
    var button = el("button", "expand");
    button.type = "button";
    button.setAttribute("aria-expanded", expanded[i] ? "true" : "false");
    button.setAttribute("aria-controls", detailId);
    button.setAttribute("aria-label", "Details: " + field(r, "title") + " — " + r[C.resource_id]);
    button.appendChild(el("span", "chevron", "›"));
    button.addEventListener("click", function () { toggle(i, tr, button); });
    td.appendChild(button);
    tr.appendChild(td);
    cell(tr, badge("sev sev-" + r[C.severity], r[C.severity]));
    cell(tr, badge("status status-" + r[C.status], r[C.status]));
    cell(tr, twoLine(field(r, "title"), r[C.check_id], "cell-sub mono"), "col-check");
    cell(tr, r[C.service]);
    cell(tr, r[C.account_id], "mono");
    cell(tr, r[C.region]);
    cell(tr, twoLine(r[C.resource_id], r[C.resource_type]), "col-resource");
    frag.appendChild(tr);
    if (expanded[i]) { frag.appendChild(detailRow(i)); }
  }

  function dtdd(dl, term, value, cls) {
    if (value === null || value === undefined || value === "") { return null; }
    dl.appendChild(el("dt", null, term));
    var dd = el("dd", cls);
    if (typeof value === "string") { dd.textContent = value; } else { dd.appendChild(value); }
    dl.appendChild(dd);
    return dd;
  }

  function remediationNode(text) {
    var box = el("div", "remediation");
    var at = text.indexOf("CLI: ");
    var consoleText = at >= 0 ? text.slice(0, at).trim() : text;
    if (consoleText) {
      box.appendChild(el("p", "remediation-label", "Console"));
      box.appendChild(el("p", "remediation-console", consoleText));
    }
    if (at >= 0) {
      box.appendChild(el("p", "remediation-label", "CLI"));
      var pre = el("pre", "remediation-cli");
      pre.appendChild(el("code", null, text.slice(at + 5).trim()));
      box.appendChild(pre);
    }
    return box;
  }

  function frameworksText(fw) {
    var parts = [];
    Object.keys(fw || {}).sort().forEach(function (k) {
      if (fw[k] && fw[k].length) { parts.push((FRAMEWORK_LABELS[k] || k) + " " + fw[k].join(", ")); }
    });
    return parts.join(" · ");
  }

  function detailRow(i) {
    var r = rows[i], meta = info(r);
    var tr = el("tr", "detail");
    tr.id = "finding-detail-" + i;
    var td = el("td");
    td.colSpan = 8;
    var dl = el("dl", "detail-grid");
    dtdd(dl, "Message", r[C.message]);
    dtdd(dl, "Risk", meta.risk || "");
    dtdd(dl, "Remediation", remediationNode(field(r, "remediation") || ""));
    dtdd(dl, "Resource ARN", r[C.resource_arn] || "", "mono");
    dtdd(dl, "Frameworks", frameworksText(field(r, "frameworks")));
    dtdd(dl, "Well-Architected", (PILLAR_LABELS[r[C.pillar]] || r[C.pillar]) + (meta.bp ? " — " + meta.bp : ""));
    td.appendChild(dl);
    tr.appendChild(td);
    return tr;
  }

  function toggle(i, tr, button) {
    if (expanded[i]) {
      delete expanded[i];
      var next = tr.nextSibling;
      if (next && next.classList && next.classList.contains("detail")) { tbody.removeChild(next); }
      button.setAttribute("aria-expanded", "false");
    } else {
      expanded[i] = true;
      tbody.insertBefore(detailRow(i), tr.nextSibling);
      button.setAttribute("aria-expanded", "true");
    }
  }

  function pages() { return Math.max(1, Math.ceil(view.length / state.pageSize)); }

  function render() {
    var start = state.page * state.pageSize;
    var end = Math.min(view.length, start + state.pageSize);
    var frag = document.createDocumentFragment();
    for (var k = start; k < end; k++) { renderRow(view[k], frag); }
    if (!view.length) {
      var tr = el("tr", "empty-row");
      var td = el("td", null, rows.length ? "No findings match these filters." : "This scan has no findings.");
      td.colSpan = 8;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    tbody.appendChild(frag);

    var summary = view.length ?
      "Showing " + (start + 1).toLocaleString("en") + "–" + end.toLocaleString("en") + " of " +
      view.length.toLocaleString("en") + " findings" +
      (view.length !== rows.length ? " (filtered from " + rows.length.toLocaleString("en") + ")" : "") :
      "0 of " + rows.length.toLocaleString("en") + " findings";
    $("table-status").textContent = summary;
    $("p-info").textContent = "Page " + (state.page + 1) + " of " + pages();
    var printNote = $("print-note");
    if (printNote) { printNote.textContent = "Printed view: " + summary + ", page " + (state.page + 1) + " of " + pages() + "."; }
    $("p-first").disabled = $("p-prev").disabled = state.page === 0;
    $("p-next").disabled = $("p-last").disabled = state.page >= pages() - 1;
  }

  function goTo(page) {
    state.page = Math.max(0, Math.min(pages() - 1, page));
    render();
  }

  // -- wiring --
  fillSelects();

  var search = $("f-text");
  var timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      state.text = search.value.trim().toLowerCase();
      refresh();
    }, 150);
  });

  $("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  $("filters").addEventListener("reset", function () {
    // After the browser has reset the controls.
    setTimeout(function () {
      Object.keys(state.filters).forEach(function (k) { state.filters[k] = ""; });
      state.text = "";
      refresh();
    }, 0);
  });

  var sortButtons = document.querySelectorAll("#findings-table th[data-sort] button");
  for (var b = 0; b < sortButtons.length; b++) {
    sortButtons[b].addEventListener("click", function (e) {
      var key = e.currentTarget.parentNode.getAttribute("data-sort");
      if (state.sortKey === key) {
        state.sortDir = -state.sortDir;
      } else {
        state.sortKey = key;
        state.sortDir = 1;
      }
      sortView();
      state.page = 0;
      render();
    });
  }

  $("p-first").addEventListener("click", function () { goTo(0); });
  $("p-prev").addEventListener("click", function () { goTo(state.page - 1); });
  $("p-next").addEventListener("click", function () { goTo(state.page + 1); });
  $("p-last").addEventListener("click", function () { goTo(pages() - 1); });
  $("p-size").addEventListener("change", function (e) {
    state.pageSize = parseInt(e.target.value, 10) || 100;
    goTo(0);
  });

  // Printing: open every collapsible section, then put them back as they were.
  var reopened = [];
  window.addEventListener("beforeprint", function () {
    reopened = Array.prototype.filter.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.open = true;
      return true;
    });
  });
  window.addEventListener("afterprint", function () {
    reopened.forEach(function (d) { d.open = false; });
    reopened = [];
  });

  refresh();
  root.setAttribute("data-table-ready-ms", String(Math.round(window.performance ? performance.now() : 0)));
  root.setAttribute("data-table-ready", "true");
})();
