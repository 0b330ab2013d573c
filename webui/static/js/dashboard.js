/* The dashboard's charts, drawn from the JSON island the page carries (the same figures as
   GET /api/v1/dashboard and as the table twins). The street map is fetched from
   /dashboard/map.json: the installation's own file, or the shipped schematic. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  var island = document.getElementById("dashboard-data");
  if (!root || !island) { return; }
  var data = JSON.parse(island.textContent);
  var toggle = document.getElementById("toggle-tables");
  toggle.addEventListener("click", function () {
    var on = document.body.classList.toggle("show-twins");
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? "隐藏数据表" : "显示数据表";
  });
  if (!window.echarts) { return; }

  var font = "Noto Sans SC";
  var palette = ["#c62828", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037",
                 "#9e9d24", "#ad1457", "#455a64"];
  var moods = {negative: "#c62828", neutral: "#90a4ae", positive: "#2e7d32", "": "#cfd8dc"};
  var charts = [];

  function chart(id, option) {
    var box = document.getElementById(id);
    if (!box) { return null; }
    var c = window.echarts.init(box);
    option.animation = false;
    option.textStyle = {fontFamily: font + ", sans-serif"};
    option.color = option.color || palette;
    c.setOption(option);
    charts.push(c);
    return c;
  }

  function volume(id, block, colors) {
    chart(id, {
      tooltip: {trigger: "axis"},
      legend: {top: 0},
      grid: {left: 40, right: 16, top: 36, bottom: 30},
      xAxis: {type: "category", data: block.buckets},
      yAxis: {type: "value", minInterval: 1},
      series: block.series.map(function (s) {
        return {type: "bar", stack: "all", name: s.name, data: s.data, barMaxWidth: 48,
                itemStyle: colors && colors[s.key] ? {color: colors[s.key]} : undefined};
      })
    });
  }

  function bars(id, rows, name) {
    var top = rows.slice(0, 12).reverse();
    chart(id, {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      grid: {left: 110, right: 30, top: 10, bottom: 20},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", data: top.map(function (r) { return r.name; }),
              axisLabel: {width: 100, overflow: "truncate"}},
      series: [{type: "bar", name: name, barMaxWidth: 28, data: top.map(function (r) { return r.count; }),
                label: {show: true, position: "right"}}]
    });
  }

  function cases() {
    var rows = data.cases.by_state;
    chart("chart-cases", {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      legend: {top: 0},
      grid: {left: 40, right: 16, top: 36, bottom: 30},
      xAxis: {type: "category", data: rows.map(function (r) { return r.label; })},
      yAxis: {type: "value", minInterval: 1},
      series: [
        {type: "bar", stack: "c", name: "未超时", color: "#1565c0",
         data: rows.map(function (r) { return r.open - r.overdue; })},
        {type: "bar", stack: "c", name: "超时", color: "#c62828",
         data: rows.map(function (r) { return r.overdue; })}
      ]
    });
  }

  function wordList(box, list) {
    // Without the word-cloud extension: the same words as a weighted list.
    var top = Math.max.apply(null, list.map(function (w) { return w.value; }).concat([1]));
    box.textContent = "";
    box.classList.add("word-list");
    list.forEach(function (w) {
      var span = document.createElement("span");
      span.textContent = w.name;
      span.title = w.value + " 条";
      span.style.fontSize = Math.round(12 + 22 * w.value / top) + "px";
      box.appendChild(span);
    });
  }

  function words() {
    var box = document.getElementById("chart-words");
    var list = data.words.map(function (w) { return {name: w.name, value: w.value}; });
    if (!box) { return; }
    try {
      chart("chart-words", {
        tooltip: {formatter: "{b}：{c} 条"},
        // laid out at once, not in timed steps: a resize or a page left mid-layout made the
        // pending step throw (reading a grid already dropped); a period's words are few
        series: [{type: "wordCloud", shape: "circle", gridSize: 6, sizeRange: [14, 48],
                  layoutAnimation: false,
                  rotationRange: [0, 0], width: "100%", height: "100%", drawOutOfBound: false,
                  textStyle: {fontFamily: font + ", sans-serif", color: function (p) {
                    return palette[p.dataIndex % palette.length]; }},
                  data: list}]
      });
    } catch (e) {
      wordList(box, list);
    }
  }

  function map() {
    var url = root.getAttribute("data-map-url");
    var box = document.getElementById("chart-map");
    var select = document.getElementById("map-metric");
    if (!url || !box) { return; }
    fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error("map " + r.status); }
      return r.json();
    }).then(function (geo) {
      window.echarts.registerMap("dashboard-streets", geo);
      var c = chart("chart-map", {});
      function draw() {
        var metric = select.value;
        var rows = data.map.streets.map(function (s) { return {name: s.name, value: s[metric]}; });
        var top = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1]));
        c.setOption({  // notMerge: repeat the font, or labels fall back to a font without CJK
          animation: false,
          textStyle: {fontFamily: font + ", sans-serif"},
          tooltip: {trigger: "item", formatter: function (p) {
            var s = data.map.streets.filter(function (x) { return x.name === p.name; })[0];
            return s ? s.name + "<br>信息 " + s.posts + " 条，在办工单 " + s.open_cases + " 件" : p.name;
          }},
          visualMap: {min: 0, max: top, left: 0, bottom: 0, text: ["多", "少"],
                      calculable: false, inRange: {color: ["#fdf2f2", "#c62828"]}},
          series: [{type: "map", map: "dashboard-streets", data: rows, roam: false,
                    layoutCenter: ["55%", "50%"], layoutSize: "95%",
                    label: {show: true, fontSize: 11, color: "#333"},
                    emphasis: {label: {show: true}}}]
        }, true);
      }
      select.addEventListener("change", draw);
      draw();
    }).catch(function () { box.textContent = "街道地图加载失败"; });
  }

  function drawAll() {
    volume("chart-kind", data.volume_by_kind);
    volume("chart-sentiment", data.volume_by_sentiment, moods);
    bars("chart-topics", data.topics, "信息数");
    bars("chart-places", data.places, "信息数");
    cases();
    words();
    map();
    root.setAttribute("data-drawn", "1");
  }

  // The shipped font comes in unicode-range slices: load every slice the canvas will need
  // (all names in the data, plus the charts' own labels), or glyphs render as empty boxes.
  var glyphs = island.textContent + "多少信息数条件未超时在办工单街道";
  var ready = document.fonts ? document.fonts.load("12px '" + font + "'", glyphs) :
    Promise.resolve();
  ready.catch(function () { return null; }).then(drawAll);
  window.addEventListener("resize", function () {
    // a window shrunk to nothing (a full-page screenshot passes through 1 x 1) leaves a box of
    // zero width: the map's projection cannot be inverted then and throws; keep the last layout
    charts.forEach(function (c) {
      var dom = c.getDom();
      if (dom.clientWidth > 0 && dom.clientHeight > 0) { c.resize(); }
    });
  });
})();
