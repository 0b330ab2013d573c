/* The case page's trend chart (ECharts, shipped in static/vendor). The canvas needs the shipped
   font loaded first, or Chinese labels render as empty boxes on machines without CJK fonts. */
(function () {
  "use strict";
  var page = document.getElementById("case");
  var box = document.getElementById("trend");
  if (!page || !box || !window.echarts) { return; }
  var font = "Noto Sans SC";
  var fontReady = document.fonts ? document.fonts.load("12px '" + font + "'", "信息数每小时")
    : Promise.resolve();
  var data = fetch("/api/v1/cases/" + encodeURIComponent(page.getAttribute("data-case-id")),
    {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { return r.json(); });
  Promise.all([data, fontReady.catch(function () { return null; })]).then(function (got) {
    var points = got[0].trend || [];
    var chart = window.echarts.init(box);
    chart.setOption({
      animation: false,
      textStyle: {fontFamily: font + ", sans-serif"},
      tooltip: {trigger: "axis"},
      grid: {left: 50, right: 20, top: 30, bottom: 40},
      xAxis: {type: "time"},
      yAxis: {type: "value", name: "信息数", minInterval: 1},
      series: [{type: "line", name: "每小时信息数", data: points, showSymbol: true,
                symbolSize: 8, areaStyle: {}}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
