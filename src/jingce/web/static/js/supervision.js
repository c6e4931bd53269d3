/* Proficiency round page: each lab's score (E_n, zeta or z) with the satisfactory band
   (|E_n| <= 1; |z|, |zeta| <= 2, action limit 3; ISO 13528:2022 9.4.1, 9.7.1). */
(function () {
  "use strict";
  const {T, palette} = window.JC;
  const data = JSON.parse(document.getElementById("round-chart-data").textContent);
  const el = document.getElementById("round-chart");
  const chart = echarts.init(el);
  window.addEventListener("resize", () => chart.resize());
  const colour = {satisfactory: palette.green, questionable: palette.yellow, unsatisfactory: palette.red};
  const band = data.band;
  const lim = Math.ceil(2 * Math.max(band * 1.5, (data.action || band) * 1.2,
    ...data.scores.map((s) => Math.abs(s) * 1.15))) / 2;  /* a round half unit: clean axis labels */
  const lines = [{yAxis: band}, {yAxis: -band}];
  if (data.action) lines.push({yAxis: data.action, lineStyle: {color: palette.red}}, {yAxis: -data.action, lineStyle: {color: palette.red}});
  chart.setOption({
    animation: false,
    grid: {left: 56, right: 24, top: 24, bottom: 48},
    tooltip: {trigger: "item", formatter: (p) => p.name + ": " + data.kind + " = " + Number(p.value).toFixed(3) + " (" +
      T("sup.eval." + data.evaluations[p.dataIndex]) + ")"},
    xAxis: {type: "category", data: data.labs, axisLabel: {color: palette.ink, rotate: data.labs.length > 12 ? 45 : 0}},
    yAxis: {type: "value", min: -lim, max: lim, name: data.kind, axisLabel: {color: palette.muted},
      splitLine: {lineStyle: {color: "#eef1f4"}}},
    series: [{
      type: "bar", barMaxWidth: 28,
      data: data.scores.map((s, i) => ({value: s, itemStyle: {color: colour[data.evaluations[i]] || palette.grey}})),
      markArea: {silent: true, itemStyle: {color: "rgba(46,139,87,0.08)"}, data: [[{yAxis: -band}, {yAxis: band}]]},
      markLine: {silent: true, symbol: "none", label: {formatter: (p) => (p.value > 0 ? "+" : "") + p.value},
        lineStyle: {color: palette.green, type: "dashed"}, data: lines},
    }],
  });
})();
