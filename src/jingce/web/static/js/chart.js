/* Control chart page: the chart with its limits and rule violations, capability histogram and indices. */
(function () {
  "use strict";
  const {T, api, num, fixed, esc, fmtTime, fill, failed, dateParam, palette} = window.JC;
  const root = document.getElementById("chart-page");
  const id = root.dataset.characteristic;
  const form = document.getElementById("chart-form");
  const chartEl = document.getElementById("control-chart");
  const histEl = document.getElementById("histogram");
  const control = echarts.init(chartEl, null, {renderer: "canvas"});
  const hist = echarts.init(histEl, null, {renderer: "canvas"});
  window.addEventListener("resize", () => { control.resize(); hist.resize(); });
  const CHART_NAMES = {imr: "I-MR", xbar_r: "X̄-R", xbar_s: "X̄-S"};
  const LARGE = 2000;
  const WINDOW = 5000;

  const params = new URLSearchParams(location.search);
  for (const k of ["chart", "subgroup_size", "start", "end"]) {
    if (params.get(k)) form.elements[k].value = params.get(k);
  }

  function syncForm() {
    const kind = form.elements.chart.value;
    form.elements.subgroup_size.disabled = !(kind === "xbar_r" || kind === "xbar_s");
  }
  form.elements.chart.addEventListener("change", syncForm);
  syncForm();

  function query() {
    const q = new URLSearchParams();
    const kind = form.elements.chart.value || "auto";
    q.set("chart", kind);
    if (kind === "xbar_r" || kind === "xbar_s") q.set("subgroup_size", form.elements.subgroup_size.value || "5");
    if (form.elements.start.value) q.set("start", dateParam(form.elements.start.value, false));
    if (form.elements.end.value) q.set("end", dateParam(form.elements.end.value, true));
    q.set("limit", "100000");
    return q;
  }

  function limitLines(p) {
    const lines = [];
    if (p.ucl !== null && p.ucl !== undefined) lines.push({name: "UCL", yAxis: p.ucl, lineStyle: {color: palette.red}});
    if (p.center !== null && p.center !== undefined) lines.push({name: "CL", yAxis: p.center, lineStyle: {color: palette.green, type: "solid"}});
    if (p.lcl !== null && p.lcl !== undefined) lines.push({name: "LCL", yAxis: p.lcl, lineStyle: {color: palette.red}});
    return lines;
  }

  function yRange(p) {
    const lims = [p.ucl, p.lcl, p.center].filter((x) => x !== null && x !== undefined && isFinite(x));
    return {
      min: (v) => { const lo = Math.min(v.min, ...lims); const hi = Math.max(v.max, ...lims); return lo - 0.06 * (hi - lo || Math.abs(lo) || 1); },
      max: (v) => { const lo = Math.min(v.min, ...lims); const hi = Math.max(v.max, ...lims); return hi + 0.06 * (hi - lo || Math.abs(hi) || 1); },
    };
  }

  function drawControl(d) {
    const panels = d.panels || [];
    const n = panels.length ? panels[0].points.length : 0;
    const cats = Array.from({length: n}, (_, i) => String(i + 1));
    const big = n > LARGE;
    const heights = panels.length > 1 ? [["7%", "50%"], ["66%", "20%"]] : [["7%", "78%"]];
    const grids = panels.map((_, i) => ({left: 64, right: 104, top: heights[i][0], height: heights[i][1]}));
    const xAxes = panels.map((_, i) => ({type: "category", gridIndex: i, data: cats, boundaryGap: false,
      axisLabel: {color: palette.muted, hideOverlap: true}, axisLine: {lineStyle: {color: palette.line}},
      axisTick: {show: false}}));
    const yAxes = panels.map((p, i) => Object.assign({type: "value", gridIndex: i, name: p.name, scale: true,
      nameTextStyle: {color: palette.muted, align: "left"},
      axisLabel: {color: palette.muted, showMinLabel: false, showMaxLabel: false, formatter: (v) => num(v, 5)},
      splitLine: {lineStyle: {color: "#eef1f4"}}}, yRange(p)));
    const series = [];
    panels.forEach((p, i) => {
      series.push({
        name: p.name, type: "line", xAxisIndex: i, yAxisIndex: i, data: p.points,
        showSymbol: !big, symbol: "circle", symbolSize: 4, sampling: big ? "lttb" : undefined,
        progressive: big ? 20000 : 0, animation: !big, connectNulls: false,
        lineStyle: {width: 1, color: palette.brand}, itemStyle: {color: palette.brand},
        markLine: {silent: true, symbol: "none", animation: false, precision: 6,
          lineStyle: {type: "dashed", width: 1.2},
          label: {position: "end", formatter: (m) => m.name + " " + num(m.value, 5), color: palette.ink, fontSize: 11,
            distance: 4},
          data: limitLines(p)},
      });
      const bad = (p.violations || []).filter((v) => p.points[v.index] !== null && p.points[v.index] !== undefined);
      series.push({
        name: p.name + " " + T("chart.violations"), type: "scatter", xAxisIndex: i, yAxisIndex: i, z: 5,
        large: bad.length > LARGE, symbolSize: 7, itemStyle: {color: palette.red, borderColor: "#fff", borderWidth: 1},
        data: bad.map((v) => [v.index, p.points[v.index], v.rules.join(",")]),
      });
    });
    const axisIdx = panels.map((_, i) => i);
    control.setOption({
      animation: !big,
      grid: grids, xAxis: xAxes, yAxis: yAxes, series: series,
      axisPointer: {link: [{xAxisIndex: "all"}]},
      tooltip: {trigger: "axis", axisPointer: {type: "line"}, confine: true,
        formatter: (items) => {
          if (!items.length) return "";
          const idx = items[0].dataIndex !== undefined && items[0].seriesType === "line" ? items[0].dataIndex : Number(items[0].axisValue) - 1;
          const lines = ["<b>#" + (idx + 1) + "</b> " + esc(fmtTime(d.t[idx]))];
          panels.forEach((p) => lines.push(esc(p.name) + ": <b>" + num(p.points[idx], 6) + "</b>"));
          return lines.join("<br>");
        }},
      /* long series open on their most recent WINDOW points; the slider shows the whole series */
      dataZoom: [{type: "inside", xAxisIndex: axisIdx, filterMode: "none", startValue: Math.max(0, n - WINDOW)},
        {type: "slider", xAxisIndex: axisIdx, bottom: 6, height: 18, filterMode: "none", startValue: Math.max(0, n - WINDOW),
          borderColor: palette.line, fillerColor: "rgba(31,111,209,.12)"}],
    }, true);
  }

  function drawHistogram(d) {
    const cap = d.capability || {};
    const h = cap.histogram || {edges: [], counts: []};
    const dens = cap.density || {x: [], y: []};
    const ch = d.characteristic || {};
    const edges = h.edges || [];
    const bars = (h.counts || []).map((c, i) => [edges[i], edges[i + 1], c]);
    const spec = [];
    if (ch.lower_limit !== null && ch.lower_limit !== undefined) spec.push({name: "LSL", xAxis: ch.lower_limit});
    if (ch.upper_limit !== null && ch.upper_limit !== undefined) spec.push({name: "USL", xAxis: ch.upper_limit});
    const xs = edges.concat(spec.map((s) => s.xAxis)).filter((x) => x !== null && isFinite(x));
    const lo = xs.length ? Math.min(...xs) : 0, hi = xs.length ? Math.max(...xs) : 1;
    const pad = 0.05 * (hi - lo || Math.abs(hi) || 1);
    const nominal = ch.nominal !== null && ch.nominal !== undefined ? [{name: T("chart.nominal"), xAxis: ch.nominal,
      lineStyle: {color: palette.muted, type: "dotted"}}] : [];
    hist.setOption({
      animation: false,
      grid: {left: 44, right: 16, top: 28, bottom: 28},
      xAxis: {type: "value", min: lo - pad, max: hi + pad, axisLabel: {color: palette.muted, formatter: (v) => num(v, 4), hideOverlap: true},
        splitLine: {show: false}},
      yAxis: {type: "value", axisLabel: {color: palette.muted}, splitLine: {lineStyle: {color: "#eef1f4"}}},
      tooltip: {trigger: "item", formatter: (p) => p.seriesType === "custom" ?
        num(p.value[0], 5) + " … " + num(p.value[1], 5) + ": <b>" + p.value[2] + "</b>" : ""},
      series: [
        {name: "histogram", type: "custom", data: bars, encode: {x: [0, 1], y: 2},
          renderItem: (params, api) => {
            const a = api.coord([api.value(0), api.value(2)]);
            const b = api.coord([api.value(1), 0]);
            return {type: "rect", shape: {x: a[0], y: a[1], width: Math.max(1, b[0] - a[0] - 1), height: b[1] - a[1]},
              style: {fill: "#9dbde6", stroke: "#6f9bd3"}};
          },
          markLine: {silent: true, symbol: "none", animation: false,
            label: {formatter: (m) => m.name, color: palette.red, fontSize: 11, position: "end"},
            lineStyle: {color: palette.red, type: "dashed", width: 1.5}, data: spec.concat(nominal)}},
        {name: "density", type: "line", showSymbol: false, smooth: true,
          data: (dens.x || []).map((x, i) => [x, dens.y[i]]),  /* already scaled to the counts */
          lineStyle: {color: palette.brand, width: 2}},
      ],
    }, true);
  }

  function capabilityRows(d) {
    const c = d.capability || {};
    const ci = (v) => Array.isArray(v) && v[0] !== null && v[0] !== undefined ?
      "[" + fixed(v[0], 2) + ", " + fixed(v[1], 2) + "]" : "—";
    const rows = [
      ["Cp", fixed(c.cp, 2), ci(c.cp_ci)], ["Cpk", fixed(c.cpk, 2), ci(c.cpk_ci)],
      ["Pp", fixed(c.pp, 2), "—"], ["Ppk", fixed(c.ppk, 2), ci(c.ppk_ci)],
      ...(c.cpm !== undefined ? [["Cpm", fixed(c.cpm, 2), ""]] : []),
      [T("common.n"), c.n ?? "—", ""], [T("chart.mean"), num(c.mean, 6), ""],
      [T("chart.sigma_within"), num(c.sigma_within, 4), ""], [T("chart.sigma_overall"), num(c.sigma_overall, 4), ""],
      [T("chart.ppm"), c.ppm_overall === null || c.ppm_overall === undefined ? "—" : num(c.ppm_overall, 3), ""],
      ...(c.normality_p !== undefined ? [[T("chart.normality"), num(c.normality_p, 3), ""]] : []),
    ];
    return rows.map((r) => '<tr><td>' + esc(r[0]) + '</td><td class="r num" data-index="' + esc(r[0]) + '"><b>' +
      esc(r[1]) + '</b></td><td class="r num">' + esc(r[2]) + "</td></tr>");
  }

  function violationRows(d) {
    const out = [];
    (d.panels || []).forEach((p) => (p.violations || []).forEach((v) => out.push([v.index, p, v])));
    out.sort((a, b) => a[0] - b[0]);
    return out.slice(0, 300).map(([i, p, v]) => "<tr><td>" + (i + 1) + '</td><td class="num">' + esc(fmtTime(d.t[i])) +
      "</td><td>" + esc(p.name) + '</td><td class="r num">' + num(p.points[i], 6) + "</td><td>" +
      v.rules.map((r) => '<span class="pill pill-red" title="' + esc(T("rule." + r)) + '">' + esc(r) + "</span>")
        .join(" ") + "</td></tr>");
  }

  let loading = 0;

  async function load() {
    const mine = ++loading;  /* a later request supersedes this one */
    control.showLoading({text: T("common.loading"), color: palette.blue});
    const capBody = document.querySelector("#capability-table tbody");
    const vioBody = document.querySelector("#violations-table tbody");
    try {
      const d = await api("/api/v1/characteristics/" + encodeURIComponent(id) + "/chart?" + query().toString());
      if (mine !== loading) return;
      window.jcChartData = d;
      const n = d.panels && d.panels.length ? d.panels[0].points.length : 0;
      document.getElementById("chart-heading").textContent = T("chart.title") + " · " + (CHART_NAMES[d.chart] || d.chart);
      document.getElementById("chart-meta").textContent = T("chart.points") + " " + n +
        (d.subgroup_size > 1 ? " · " + T("chart.subgroup_size") + " " + d.subgroup_size : "") +
        (d.limits_source ? " · " + T("chart.limits_source") + ": " + (d.limits_source === "phase_i" ?
          T("chart.phase_i") : d.limits_source.replace("frozen", T("chart.frozen"))) : "");
      drawControl(d);
      drawHistogram(d);
      fill(capBody, capabilityRows(d), 3);
      fill(vioBody, violationRows(d), 5, n ? T("chart.no_violations") : T("chart.empty"));
      control.resize();  /* the tables beside it may have grown the row */
      root.dataset.loaded = "true";
    } catch (e) {
      if (mine !== loading) return;
      failed(capBody, 3, e); failed(vioBody, 5, e);
      root.dataset.loaded = "error";
    } finally {
      if (mine === loading) control.hideLoading();
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const k of ["chart", "subgroup_size", "start", "end"]) {
      if (form.elements[k].value && !form.elements[k].disabled) q.set(k, form.elements[k].value);
    }
    history.replaceState(null, "", location.pathname + "?" + q.toString());
    load();
  });
  load();
})();
