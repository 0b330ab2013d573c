/* The case page's trend chart (ECharts, shipped in static/vendor). */
(function () {
  "use strict";
  var page = document.getElementById("case");
  var box = document.getElementById("trend");
  if (!page || !box || !window.echarts) { return; }
  fetch("/api/v1/cases/" + encodeURIComponent(page.getAttribute("data-case-id")),
    {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var points = data.trend || [];
      var chart = window.echarts.init(box);
      chart.setOption({
        tooltip: {trigger: "axis"},
        grid: {left: 40, right: 20, top: 20, bottom: 40},
        xAxis: {type: "time"},
        yAxis: {type: "value", name: "信息数", minInterval: 1},
        series: [{type: "line", name: "每小时信息数", data: points, smooth: true, areaStyle: {}}]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
})();
