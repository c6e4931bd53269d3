/* Enterprise dashboard: capability traffic lights, open alarms, instruments due. */
(function () {
  "use strict";
  const {T, api, num, fixed, esc, fmtTime, fmtDate, fill, failed, light} = window.JC;
  const root = document.getElementById("dashboard");
  const id = root.dataset.enterprise;
  const charBody = document.querySelector("#char-table tbody");
  const alarmBody = document.querySelector("#alarm-table tbody");
  const dueBody = document.querySelector("#due-table tbody");

  const ci = (v) => Array.isArray(v) && v[0] !== null && v[0] !== undefined ?
    "[" + fixed(v[0], 2) + ", " + fixed(v[1], 2) + "]" : "—";

  /* "overdue" covers expired, out of tolerance as last found, and never calibrated: say which */
  function dueText(i) {
    if (i.result === "out_of_tolerance" || i.result === "fail") return T("link.out_of_tolerance");
    if (!i.valid_until) return T("inst.never");
    return T("status." + i.status);
  }

  function setKpi(idName, v) { document.getElementById(idName).textContent = v; }

  alarmBody.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-ack]");
    if (!button) return;
    button.disabled = true;
    api("/api/v1/alarms/" + encodeURIComponent(button.dataset.ack) + "/acknowledge", {method: "POST"}).then(() => {
      button.closest("tr").remove();
      const left = alarmBody.querySelectorAll("tr[data-alarm]").length;
      setKpi("kpi-alarms", left);
      if (!left) fill(alarmBody, [], 5, T("dash.no_alarms"));
    }).catch((e) => { button.disabled = false; button.title = e.message; button.classList.add("btn-error"); });
  });

  api("/api/v1/dashboard/enterprise?enterprise_id=" + encodeURIComponent(id)).then((d) => {
    const chars = d.characteristics || [];
    const order = {red: 0, yellow: 1, grey: 2, green: 3};
    chars.sort((a, b) => (order[a.light] ?? 9) - (order[b.light] ?? 9) || String(a.code).localeCompare(b.code));
    const names = {};
    chars.forEach((c) => { names[c.id] = c.code; });
    const count = (l) => chars.filter((c) => c.light === l).length;
    setKpi("kpi-chars", chars.length);
    setKpi("kpi-green", count("green"));
    setKpi("kpi-yellow", count("yellow"));
    setKpi("kpi-red", count("red"));
    setKpi("kpi-alarms", (d.alarms || []).length);
    setKpi("kpi-due", (d.instruments_due || []).length);
    fill(charBody, chars.map((c) =>
      '<tr data-characteristic="' + esc(c.id) + '"><td class="c">' + light(c.light) + "</td>" +
      '<td><a href="/characteristics/' + esc(c.id) + '">' + esc(c.code) + "</a></td><td>" + esc(c.name || "") +
      "</td><td>" + esc(c.product || "") + '</td><td class="r">' + esc(c.n) + '</td><td class="r"><b>' +
      fixed(c.cpk, 2) + '</b></td><td class="r muted">' + ci(c.cpk_ci) + '</td><td class="r">' + fixed(c.ppk, 2) +
      '</td><td class="r">' + (c.alarms ? '<span class="pill pill-red">' + esc(c.alarms) + "</span>" : "0") +
      "</td></tr>"), 9);
    fill(alarmBody, (d.alarms || []).map((a) =>
      '<tr data-alarm="' + esc(a.id) + '"><td class="num">' + esc(fmtTime(a.measured_at)) +
      '</td><td><a href="/characteristics/' + esc(a.characteristic_id) + '">' +
      esc(names[a.characteristic_id] || a.characteristic || a.characteristic_id) + "</a></td><td>" +
      esc(a.rule || a.kind || "") + '</td><td class="r num">' + num(a.value, 5) +
      '</td><td class="r"><button type="button" class="btn btn-small" data-ack="' + esc(a.id) + '">' +
      esc(T("dash.acknowledge")) + "</button></td></tr>"), 5, T("dash.no_alarms"));
    fill(dueBody, (d.instruments_due || []).map((i) =>
      '<tr><td><a href="/instruments/' + esc(i.id) + '">' + esc(i.code) + "</a></td><td>" + esc(i.name) +
      '</td><td class="num">' + esc(i.valid_until ? fmtDate(i.valid_until) : "—") + '</td><td><span class="pill ' +
      (i.status === "overdue" ? "pill-red" : "pill-yellow") + '">' + esc(dueText(i)) + "</span></td></tr>"), 4,
      T("dash.no_due"));
  }).catch((e) => {
    ["kpi-chars", "kpi-green", "kpi-yellow", "kpi-red", "kpi-alarms", "kpi-due"].forEach((k) => setKpi(k, "—"));
    failed(charBody, 9, e); failed(alarmBody, 5, e); failed(dueBody, 4, e);
  });
})();
