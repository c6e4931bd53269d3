/* Regulator pages: the region by industry chain, and one enterprise's indicators. */
(function () {
  "use strict";
  const {T, api, num, fixed, pct, esc, fill, failed, light, dateParam, palette} = window.JC;
  const LABEL = {
    chain: "common.chain", enterprises: "region.enterprises", characteristics: "region.characteristics",
    out_of_control_rate: "region.ooc_rate", ppm_out_of_spec: "region.ppm",
    calibration_compliance: "region.calibration_compliance", code: "common.code", name: "common.name",
    product: "common.product", n: "common.n", light: "dash.light", alarms: "dash.alarm_count",
    values: "region.values", instruments: "region.instruments", traceability_coverage: "quality.traceability",
    nonconforming_characteristics: "quality.nonconforming_count",
  };
  const RATE = new Set(["out_of_control_rate", "calibration_compliance", "traceability_coverage"]);
  const label = (k) => (LABEL[k] ? T(LABEL[k]) : k);
  const cell = (k, v) => (k === "light" ? light(v) : RATE.has(k) ? pct(v) : typeof v === "number" ? num(v, 4) : esc(v ?? "—"));

  /* Colour the Cpk classes from red (lowest) to green (highest) by the lower bound in each name
     ("<1.00", "1.00–1.33", "≥1.67"); classes without a number (n/a) are grey. */
  function classRank(name) {
    const m = String(name).match(/(\d+(?:\.\d+)?)/);
    if (!m) return null;
    return /^\s*</.test(name) ? -Infinity : Number(m[1]);
  }

  function classColors(names) {
    const ramp = [palette.red, "#ef8a3c", palette.yellow, "#7cbf6e", palette.green];
    const graded = names.filter((n) => classRank(n) !== null).sort((a, b) => classRank(a) - classRank(b));
    return names.map((n) => {
      const i = graded.indexOf(n);
      if (i < 0) return palette.grey;
      return ramp[Math.round((i * (ramp.length - 1)) / Math.max(1, graded.length - 1))];
    });
  }

  function distributionBar(classes, mini) {
    const names = Object.keys(classes || {});
    const colors = classColors(names);
    const total = names.reduce((a, k) => a + classes[k], 0) || 1;
    const bar = '<div class="dist-bar' + (mini ? " dist-bar-mini" : "") + '">' + names.map((k, i) => classes[k] ?
      '<span style="flex:' + classes[k] + ";background:" + colors[i] + '" title="Cpk ' + esc(k) + ": " + classes[k] +
      '"></span>' : "").join("") + "</div>";
    if (mini) return bar;
    return bar + '<div class="dist-legend">' + names.map((k, i) => '<span><i style="background:' + colors[i] + '"></i>Cpk ' +
      esc(k) + " <b>" + classes[k] + "</b> (" + Math.round((100 * classes[k]) / total) + " %)</span>").join("") + "</div>";
  }

  function regionPage() {
    const form = document.getElementById("region-form");
    const cpk = echarts.init(document.getElementById("cpk-chart"));
    const rates = echarts.init(document.getElementById("rate-chart"));
    window.addEventListener("resize", () => { cpk.resize(); rates.resize(); });
    const chainBody = document.querySelector("#chain-table tbody");
    const entBody = document.querySelector("#enterprise-table tbody");

    let loading = 0;

    async function load() {
      const mine = ++loading;  /* a later request supersedes this one */
      const q = new URLSearchParams();
      if (form.elements.chain.value) q.set("chain", form.elements.chain.value);
      if (form.elements.start.value) q.set("start", form.elements.start.value);
      if (form.elements.end.value) q.set("end", dateParam(form.elements.end.value, true).slice(0, 10));  // exclusive
      const ncBody = document.querySelector("#nonconforming-table tbody");
      const prof = document.getElementById("proficiency");
      try {
        const d = await api("/api/v1/dashboard/region?" + q.toString());
        if (mine !== loading) return;
        const p = new URLSearchParams();  /* the drill-down keeps the period */
        ["start", "end"].forEach((k) => { if (q.get(k)) p.set(k, q.get(k)); });
        const period = p.toString();
        const chains = d.chains || [];
        const classes = (d.cpk_classes || []).slice();
        chains.forEach((c) => Object.keys(c.cpk_classes || {}).forEach((k) => { if (!classes.includes(k)) classes.push(k); }));
        const colors = classColors(classes);
        cpk.setOption({
          animation: false, color: colors,
          legend: {top: 0, textStyle: {color: palette.muted}},
          grid: {left: 110, right: 20, top: 34, bottom: 24},
          tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
          xAxis: {type: "value", axisLabel: {color: palette.muted}, splitLine: {lineStyle: {color: "#eef1f4"}}},
          yAxis: {type: "category", data: chains.map((c) => c.chain), axisLabel: {color: palette.ink}},
          series: classes.map((k) => ({name: "Cpk " + k, type: "bar", stack: "cpk", barMaxWidth: 26,
            data: chains.map((c) => (c.cpk_classes || {})[k] || 0)})),
        }, true);
        rates.setOption({
          animation: false, color: [palette.red, palette.green, palette.blue],
          legend: {top: 0, textStyle: {color: palette.muted}},
          grid: {left: 110, right: 20, top: 34, bottom: 24},
          tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, valueFormatter: (v) => v.toFixed(1) + " %"},
          xAxis: {type: "value", max: 100, axisLabel: {color: palette.muted, formatter: "{value} %"},
            splitLine: {lineStyle: {color: "#eef1f4"}}},
          yAxis: {type: "category", data: chains.map((c) => c.chain), axisLabel: {color: palette.ink}},
          series: [
            {name: T("region.ooc_rate"), type: "bar", barMaxWidth: 14, data: chains.map((c) => 100 * (c.out_of_control_rate || 0))},
            {name: T("region.calibration_compliance"), type: "bar", barMaxWidth: 14, data: chains.map((c) => 100 * (c.calibration_compliance || 0))},
            {name: T("quality.traceability"), type: "bar", barMaxWidth: 14, data: chains.map((c) => 100 * (c.traceability_coverage || 0))},
          ],
        }, true);
        fill(chainBody, chains.map((c) => "<tr><td>" + esc(c.chain) + '</td><td class="r">' + esc(c.enterprises) +
          '</td><td class="r">' + esc(c.characteristics) + '</td><td class="r">' + pct(c.out_of_control_rate) +
          '</td><td class="r">' + num(c.ppm_out_of_spec, 4) + '</td><td class="r">' + pct(c.calibration_compliance) +
          '</td><td class="r">' + pct(c.traceability_coverage) + '</td><td class="r">' +
          esc(c.nonconforming_characteristics ?? "—") + "</td></tr>"), 8);
        fill(entBody, (d.enterprises || []).map((e) => {
          const x = Object.assign({}, e.indicators || {}, e);
          return '<tr><td><a href="/region/enterprises/' + esc(e.id) + (period ? "?" + esc(period) : "") + '">' +
            esc(e.code) + "</a></td><td>" +
            esc(e.name) + "</td><td>" + esc(e.chain || "") + '</td><td class="r">' + esc(x.characteristics ?? "—") +
            '</td><td class="r">' + pct(x.out_of_control_rate) + '</td><td class="r">' + num(x.ppm_out_of_spec, 4) +
            '</td><td class="r">' + pct(x.calibration_compliance) + '</td><td class="r">' + pct(x.traceability_coverage) +
            '</td><td class="r">' + esc(x.nonconforming_characteristics ?? "—") + '</td><td>' +
            distributionBar(x.cpk_classes, true) + "</td></tr>";
        }), 10);
        fill(ncBody, (d.nonconforming || []).map((c) => "<tr><td>" + esc(c.enterprise || "") + "</td><td>" +
          esc(c.product) + " / " + esc(c.code) + '</td><td class="r">' + esc(c.out_of_spec) + '</td><td class="r">' +
          fixed(c.cpk, 2) + '</td><td><a class="rc-link" href="/quality?characteristic=' + esc(c.id) + '">' +
          esc(T("quality.link")) + "</a></td></tr>"), 5);
        const pf = d.proficiency;
        prof.innerHTML = pf ? [["quality.labs", pf.labs_total], ["quality.pending", pf.pending_applications],
          ["quality.results", pf.results_total],
          ["quality.flagged", Object.values(pf.flagged_results || {}).reduce((a, b) => a + b, 0)],
          ["quality.findings", Object.values(pf.open_findings || {}).reduce((a, b) => a + b, 0)]].map(([k, v]) =>
          '<div class="kpi"><div class="kpi-label">' + esc(T(k)) + '</div><div class="kpi-value">' + esc(v ?? "—") +
          "</div></div>").join("") : '<div class="muted">—</div>';
        document.getElementById("region-page").dataset.loaded = "true";
      } catch (e) {
        if (mine !== loading) return;
        failed(chainBody, 8, e); failed(entBody, 10, e);
      }
    }
    form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
    load();
  }

  function enterprisePage(root) {
    const id = root.dataset.enterprise;
    const kpis = document.getElementById("indicators");
    const table = document.getElementById("summary-table");
    const KPIS = ["characteristics", "values", "out_of_control_rate", "ppm_out_of_spec", "nonconforming_characteristics",
      "calibration_compliance", "traceability_coverage", "instruments"];
    const here = new URLSearchParams(location.search);
    const q = new URLSearchParams();
    ["start", "end"].forEach((k) => { if (/^\d{4}-\d{2}-\d{2}$/.test(here.get(k) || "")) q.set(k, here.get(k)); });
    api("/api/v1/dashboard/region/enterprises/" + encodeURIComponent(id) + "?" + q.toString()).then((d) => {
      const ind = d.indicators || {};
      kpis.innerHTML = KPIS.filter((k) => k in ind).map((k) =>
        '<div class="kpi"><div class="kpi-label">' + esc(label(k)) + '</div><div class="kpi-value">' + cell(k, ind[k]) +
        "</div></div>").join("");
      document.getElementById("distribution").innerHTML = distributionBar(ind.cpk_classes);
      const rows = d.characteristics || [];
      table.querySelector("thead").innerHTML = "<tr>" + ["light", "code", "name", "product", "n"].map((k) =>
        '<th' + (k === "n" ? ' class="r"' : "") + ">" + esc(label(k)) + "</th>").join("") +
        '<th class="r">Cpk</th><th class="r">Cpk 95% CI</th><th class="r">Ppk</th><th class="r">' +
        esc(label("ppm_out_of_spec")) + '</th><th class="r">' + esc(label("alarms")) + "</th><th></th></tr>";
      const ci = (v) => Array.isArray(v) && v[0] !== null ? "[" + fixed(v[0], 2) + ", " + fixed(v[1], 2) + "]" : "—";
      fill(table.querySelector("tbody"), rows.map((r) => '<tr><td class="c">' + light(r.light) + "</td><td>" +
        esc(r.code) + "</td><td>" + esc(r.name) + "</td><td>" + esc(r.product || "") + '</td><td class="r">' + esc(r.n) +
        '</td><td class="r">' + fixed(r.cpk, 2) + '</td><td class="r">' + ci(r.cpk_ci) + '</td><td class="r">' +
        fixed(r.ppk, 2) + '</td><td class="r">' + num(r.ppm_out_of_spec, 4) + '</td><td class="r">' + esc(r.alarms) +
        "</td><td>" + (r.out_of_spec > 0 ? '<a class="rc-link" href="/quality?characteristic=' + esc(r.id) + '">' +
        esc(T("quality.link")) + "</a>" : "") + "</td></tr>"), 11);
      root.dataset.loaded = "true";
    }).catch((e) => { kpis.innerHTML = ""; failed(table.querySelector("tbody"), 11, e); });
  }

  if (document.getElementById("region-page")) regionPage();
  const ent = document.getElementById("region-enterprise-page");
  if (ent) enterprisePage(ent);
})();
