/* Precision planner page: TUR against the false-accept risk, one point per characteristic. */
(function () {
  "use strict";
  const {T, palette} = window.JC;
  const el = document.getElementById("planner-chart");
  const data = document.getElementById("planner-data");
  if (!el || !data) return;
  const points = JSON.parse(data.textContent || "[]");
  const chart = echarts.init(el);
  window.addEventListener("resize", () => chart.resize());
  const colour = {adequate: palette.green, inadequate: palette.red, unknown: palette.grey};
  const series = ["inadequate", "adequate", "unknown"].map((status) => ({
    name: T("planner.status." + status), type: "scatter", symbolSize: 9,
    itemStyle: {color: colour[status]},
    data: points.filter((p) => p.status === status).map((p) => ({value: [p.tur, p.risk], name: p.key, id: p.id})),
  }));
  series[0].markLine = {silent: true, symbol: "none", lineStyle: {color: palette.red, type: "dashed"},
    data: [{xAxis: 4}], label: {formatter: "TUR = 4"}};
  chart.setOption({
    animation: false, legend: {top: 0},
    grid: {left: 70, right: 24, top: 32, bottom: 48},
    tooltip: {trigger: "item", formatter: (p) => p.name + "<br>TUR " + p.value[0].toFixed(2) + "<br>" +
      T("planner.risk") + " " + p.value[1].toExponential(2)},
    xAxis: {type: "log", name: T("planner.tur"), nameLocation: "middle", nameGap: 28, axisLabel: {color: palette.muted}},
    yAxis: {type: "value", name: T("planner.risk"), axisLabel: {color: palette.muted}},
    series: series,
  });
  chart.on("click", (p) => {
    const row = document.querySelector('#planner-table tr[data-characteristic="' + p.data.id + '"]');
    if (row) row.scrollIntoView({behavior: "smooth", block: "center"});
  });
}());
