/* Shared helpers of the jingce pages: texts, fetching the API, formatting. */
(function () {
  "use strict";
  const texts = JSON.parse(document.getElementById("jc-text").textContent || "{}");
  const lang = document.documentElement.lang.startsWith("zh") ? "zh" : "en";

  function T(key) { return Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key; }

  async function api(url, options) {
    const opts = Object.assign({credentials: "same-origin", headers: {}}, options || {});
    if (opts.method && opts.method !== "GET") {
      opts.headers["X-CSRF-Token"] = document.querySelector('meta[name="csrf-token"]').content;
    }
    const r = await fetch(url, opts);
    if (r.status === 204) return null;
    const body = await r.json().catch(() => null);
    if (!r.ok) {
      const e = body && body.error;
      const msg = e ? (lang === "zh" && e.message_zh ? e.message_zh : e.message) : r.statusText;
      throw new Error(msg || ("HTTP " + r.status));
    }
    return body;
  }

  function num(x, digits) {
    if (x === null || x === undefined || (typeof x === "number" && !isFinite(x)) || x === "NaN") return "—";
    const d = digits === undefined ? 4 : digits;
    const v = Number(x);
    if (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0)) return v.toExponential(d - 1);
    return String(Number(v.toPrecision(d + 1)));
  }

  function fixed(x, d) {
    if (x === null || x === undefined || x === "NaN" || (typeof x === "number" && !isFinite(x))) return "—";
    return Number(x).toFixed(d);
  }

  function pct(x) { return x === null || x === undefined || x === "NaN" ? "—" : (100 * Number(x)).toFixed(1) + " %"; }

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
      (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  function fmtTime(ms) {
    const d = new Date(typeof ms === "number" ? ms : Date.parse(ms));
    if (isNaN(d)) return "—";
    return d.toISOString().slice(0, 16).replace("T", " ");
  }

  function fmtDate(s) { const d = new Date(s); return isNaN(d) ? "—" : d.toISOString().slice(0, 10); }

  function fill(tbody, rowsHtml, cols, emptyText) {
    tbody.innerHTML = rowsHtml.length ? rowsHtml.join("") :
      '<tr><td colspan="' + cols + '" class="muted">' + esc(emptyText || T("common.none")) + "</td></tr>";
  }

  function failed(tbody, cols, err) {
    tbody.innerHTML = '<tr><td colspan="' + cols + '" class="alert-error">' + esc(T("common.load_failed")) +
      ": " + esc(err.message) + "</td></tr>";
  }

  function light(color) {
    const c = ["green", "yellow", "red"].includes(color) ? color : "grey";
    return '<span class="light light-' + c + '" title="' + c + '" data-light="' + c + '"></span>';
  }

  /* A date input as a UTC instant: its start, or (for an end date, which the API takes as
     exclusive) the start of the next day. */
  function dateParam(value, endOfDay) {
    if (!value) return "";
    const d = new Date(value + "T00:00:00Z");
    if (endOfDay) d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().replace(".000Z", "Z");
  }

  const palette = {green: "#2e8b57", yellow: "#e0b000", red: "#c62828", grey: "#9aa5b1", blue: "#1f6fd1",
    ink: "#1d2733", muted: "#66758a", line: "#dde3ea", brand: "#15396b"};

  /* Click a header of a table.sortable-table to sort its rows (numbers as numbers, lights by
     severity, "—" last); works for bodies filled later by the page's script. */
  const LIGHT_RANK = {red: 0, yellow: 1, grey: 2, green: 3};
  function sortKey(cell) {
    if (!cell) return null;
    const l = cell.querySelector("[data-light]");
    if (l) return LIGHT_RANK[l.dataset.light] ?? 9;
    const text = cell.innerText.trim().replace(/[ ,%]/g, "");
    if (text === "" || text === "—") return null;
    const x = Number(text);
    return isNaN(x) ? cell.innerText.trim().toLowerCase() : x;
  }
  function sortable(table) {
    table.tHead.addEventListener("click", (ev) => {
      const th = ev.target.closest("th");
      if (!th) return;
      const col = Array.from(th.parentNode.children).indexOf(th);
      const asc = !th.classList.contains("sorted-asc");
      table.tHead.querySelectorAll("th").forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
      th.classList.add(asc ? "sorted-asc" : "sorted-desc");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows).filter((r) => r.cells.length > 1);
      rows.sort((a, b) => {
        const x = sortKey(a.cells[col]), y = sortKey(b.cells[col]);
        if (x === null || y === null) return (x === null) - (y === null);
        const c = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach((r) => body.appendChild(r));
    });
    table.tHead.querySelectorAll("th").forEach((h) => h.classList.add("sortable"));
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("table.sortable-table").forEach(sortable);
    document.querySelectorAll("select[data-autosubmit]").forEach((s) => s.addEventListener("change", () => s.form.submit()));
  });

  window.JC = {T, api, num, fixed, pct, esc, fmtTime, fmtDate, fill, failed, light, dateParam, lang, palette};
})();
