/* Calibration management page: the recall schedule, instruments falling due per week. */
(function () {
  "use strict";
  const {T, palette} = window.JC;
  const el = document.getElementById("recall-chart");
  const data = document.getElementById("recall-data");
  if (!el || !data) return;
  const weeks = JSON.parse(data.textContent || "[]");
  const chart = echarts.init(el);
  window.addEventListener("resize", () => chart.resize());
  chart.setOption({
    animation: false, color: [palette.yellow || "#e0b000"],
    grid: {left: 40, right: 16, top: 16, bottom: 40},
    tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
      formatter: (p) => {
        const w = weeks[p[0].dataIndex];
        return w.week + ": " + w.count + (w.instruments.length ? "<br>" + w.instruments.join(", ") : "");
      }},
    xAxis: {type: "category", data: weeks.map((w) => w.week), axisLabel: {color: palette.muted, rotate: 30}},
    yAxis: {type: "value", minInterval: 1, axisLabel: {color: palette.muted}, name: T("cal.recall")},
    series: [{type: "bar", barMaxWidth: 28, data: weeks.map((w) => w.count)}],
  });
}());
