/* The queue's map: open cases per district of 南京市 (the home district and its neighbours),
   from the same JSON the queue refreshes with. */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.echarts || !window.echarts.getMap("南京")) { return; }
  var names = {};
  window.echarts.getMap("南京").geoJSON.features.forEach(function (f) {
    names[String(f.id)] = f.properties.name;
  });
  var font = "Noto Sans SC";
  var chart = null;
  function draw(cases) {
    var counts = {};
    cases.forEach(function (c) {
      var name = names[String(c.place_code || "").slice(0, 6)];
      if (name) { counts[name] = (counts[name] || 0) + 1; }
    });
    var data = Object.keys(names).map(function (code) {
      return {name: names[code], value: counts[names[code]] || 0};
    });
    var top = Math.max.apply(null, data.map(function (d) { return d.value; }).concat([1]));
    chart = chart || window.echarts.init(box);
    chart.setOption({
      animation: false,
      textStyle: {fontFamily: font + ", sans-serif"},
      tooltip: {trigger: "item", formatter: "{b}：{c} 件"},
      visualMap: {min: 0, max: top, left: 0, bottom: 0, text: ["多", "少"], calculable: false,
                  inRange: {color: ["#fdf2f2", "#c62828"]}},
      series: [{type: "map", map: "南京", data: data, label: {show: true, fontSize: 10},
                emphasis: {label: {show: true}}}]
    });
  }
  function load() {
    fetch("/api/v1/cases" + window.location.search, {credentials: "same-origin",
      headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {cases: []}; })
      .then(function (d) { draw(d.cases || []); });
  }
  var ready = document.fonts ? document.fonts.load("10px '" + font + "'", "江宁区南京") :
    Promise.resolve();
  ready.catch(function () { return null; }).then(load);
  window.setInterval(load, 30000);
})();
