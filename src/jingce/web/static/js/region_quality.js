/* Quality root cause: the non-conforming characteristics, and the ranking of the chosen one's
   upstream sources (LMG shares of R², eta² for machines) with the scatter of the top one. */
(function () {
  "use strict";
  const {T, api, num, fixed, pct, esc, fill, failed, palette, lang} = window.JC;
  const root = document.getElementById("quality-page");
  if (!root) return;
  const worstBody = document.querySelector("#worst-table tbody");
  const result = document.getElementById("rc-result");
  let shareChart = null, scatterChart = null;

  function charts() {
    if (!shareChart) {
      shareChart = echarts.init(document.getElementById("share-chart"));
      scatterChart = echarts.init(document.getElementById("scatter-chart"));
      window.addEventListener("resize", () => { shareChart.resize(); scatterChart.resize(); });
    }
  }

  const label = (c) => c.kind === "machine" ? T("quality.machine") : (c.product ? c.product + " / " : "") + c.code;
  /* the service's notes are "中文 / English": show the page language's half */
  const note = (n) => { const i = String(n).indexOf(" / "); return i < 0 ? n : lang === "zh" ? n.slice(0, i) : n.slice(i + 3); };
  const pval = (p) => p === null || p === undefined ? "—" : p < 1e-4 ? Number(p).toExponential(1) : fixed(p, 4);

  function show(d) {
    charts();
    result.hidden = false;
    const ch = d.characteristic || {};
    document.getElementById("rc-title").textContent = (ch.enterprise || "") + " · " + (ch.product || "") + " / " +
      (ch.code || "") + "  (" + T("quality.serials") + " " + (ch.serials ?? 0) + ", " + T("quality.out_of_spec") + " " +
      (ch.out_of_spec ?? "—") + ")";
    const m = d.model;
    document.getElementById("rc-model").textContent = m ? T("quality.model") + ": R² " + fixed(m.r_squared, 3) +
      " (adj. " + fixed(m.adjusted_r_squared, 3) + "), n = " + m.n + ", p = " + pval(m.f_p_value) : "";
    document.getElementById("rc-notes").innerHTML = (d.notes || []).map((n) => "<li>" + esc(note(n)) + "</li>").join("");
    const ranked = (d.candidates || []).filter((c) => c.share !== null && c.share !== undefined).slice(0, 12);
    shareChart.setOption({
      animation: false, grid: {left: 190, right: 30, top: 10, bottom: 24},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, valueFormatter: (v) => v.toFixed(1) + " %"},
      xAxis: {type: "value", axisLabel: {color: palette.muted, formatter: "{value} %"}},
      yAxis: {type: "category", inverse: true, data: ranked.map(label), axisLabel: {color: palette.ink, width: 180, overflow: "truncate"}},
      series: [{type: "bar", barMaxWidth: 18, data: ranked.map((c) => ({value: 100 * c.share,
        itemStyle: {color: c.kind === "machine" ? palette.yellow : palette.blue}}))}],
    }, true);
    const sc = d.scatter;
    const kind = document.getElementById("scatter-kind");
    if (!sc) {
      scatterChart.clear();
      kind.textContent = T("quality.none");
    } else {
      const line = sc.line || {};
      let series, xs;
      if (sc.kind === "points") {
        kind.textContent = sc.x_label + " → " + sc.y_label + " (n = " + sc.n + ")";
        xs = sc.points.map((p) => p[0]);
        series = [{type: "scatter", symbolSize: 5, data: sc.points, itemStyle: {color: palette.blue, opacity: 0.6}}];
      } else {
        kind.textContent = T("quality.binned") + " · n = " + sc.n;
        xs = sc.x_edges;
        const max = Math.max(1, ...sc.cells.map((c) => c[2]));
        series = [{type: "scatter", data: sc.cells, symbolSize: (v) => 6 + 22 * Math.sqrt(v[2] / max),
          itemStyle: {color: palette.blue, opacity: 0.55}}];
      }
      if (line.slope !== null && line.slope !== undefined && xs.length) {
        const lo = Math.min(...xs), hi = Math.max(...xs);
        series.push({type: "line", showSymbol: false, data: [[lo, line.intercept + line.slope * lo], [hi, line.intercept + line.slope * hi]],
          lineStyle: {color: palette.red, width: 1.5}});
      }
      scatterChart.setOption({
        animation: false, grid: {left: 70, right: 20, top: 16, bottom: 48},
        tooltip: {trigger: "item"},
        xAxis: {type: "value", scale: true, name: sc.x_label, nameLocation: "middle", nameGap: 28, axisLabel: {color: palette.muted}},
        yAxis: {type: "value", scale: true, name: sc.y_label, axisLabel: {color: palette.muted}},
        series,
      }, true);
    }
    fill(document.querySelector("#candidate-table tbody"), (d.candidates || []).slice(0, 40).map((c) =>
      '<tr' + (c.in_model ? ' class="hl"' : "") + '><td class="r">' + esc(c.rank) + "</td><td>" +
      esc(c.kind === "machine" ? T("quality.machine") + " (" + (c.levels || []).map((l) => l.machine).join(", ") + ")" : c.code + (c.name ? " · " + c.name : "")) +
      "</td><td>" + esc(c.product || "") + (c.enterprise ? ' <span class="muted small">' + esc(c.enterprise) + "</span>" : "") +
      '</td><td class="r">' + esc(c.depth ?? "—") + '</td><td class="r">' + esc(c.n) + '</td><td class="r">' + pct(c.share) +
      '</td><td class="r">' + (c.coefficient !== null && c.coefficient !== undefined ? num(c.coefficient, 4) + " ± " + num(c.se, 2) : "—") +
      '</td><td class="r">' + pval(c.p_value ?? c.p_alone) + '</td><td class="r">' + fixed(c.r2_alone, 3) + "</td></tr>"), 9, T("quality.none"));
    root.dataset.loaded = "true";
  }

  async function analyse(id) {
    result.hidden = false;
    document.getElementById("rc-title").textContent = T("common.loading");
    try {
      show(await api("/api/v1/characteristics/" + encodeURIComponent(id) + "/root-cause"));
    } catch (e) {
      failed(document.querySelector("#candidate-table tbody"), 9, e);
      document.getElementById("rc-title").textContent = String(e.message || e);
    }
  }

  api("/api/v1/quality/worst?limit=30").then((d) => {
    fill(worstBody, (d.characteristics || []).map((c) => "<tr><td>" + esc(c.enterprise || "") + "</td><td>" +
      esc(c.product) + "</td><td>" + esc(c.code) + " · " + esc(c.name) + '</td><td class="r">' + esc(c.n) +
      '</td><td class="r">' + esc(c.out_of_spec) + '</td><td class="r">' + fixed(c.cpk, 2) +
      '</td><td><a href="/quality?characteristic=' + esc(c.id) + '" data-characteristic="' + esc(c.id) + '">' +
      esc(T("quality.analyse")) + "</a></td></tr>"), 7, T("quality.none"));
    worstBody.querySelectorAll("a[data-characteristic]").forEach((a) => a.addEventListener("click", (ev) => {
      ev.preventDefault();
      history.replaceState(null, "", a.getAttribute("href"));
      analyse(a.dataset.characteristic);
    }));
    if (!root.dataset.characteristic) root.dataset.loaded = "true";
  }).catch((e) => failed(worstBody, 7, e));
  if (root.dataset.characteristic) analyse(root.dataset.characteristic);
})();
