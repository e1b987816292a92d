// The 作风看板's charts (ECharts, loaded on this page only). The figures come
// from the page's data-board attribute; in wall mode they are fetched again
// every data-refresh seconds.
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root || typeof echarts === "undefined") { return; }
  var charts = {};
  var palette = { red: "#d93025", yellow: "#e2a400", green: "#1e8e3e" };
  var statusColors = { registered: "#8ab4f8", assigned: "#4285f4", rectifying: "#fbbc04", submitted: "#f29900", closed: "#34a853", dismissed: "#9aa0a6" };

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    if (!charts[id]) { charts[id] = echarts.init(el, document.body.classList.contains("wall") ? "dark" : null, { renderer: "canvas" }); }
    return charts[id];
  }

  function draw(d) {
    var L = d.labels;
    var pieOpts = function (items, colors) {
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0, type: "scroll" },
        series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], label: { show: false },
          data: items.map(function (x) { return { name: x.name, value: x.value, itemStyle: { color: colors[x.key] } }; }) }]
      };
    };
    chart("chart-status").setOption(pieOpts(d.status, statusColors));
    chart("chart-warning").setOption(pieOpts(d.warning, palette));
    var units = d.units || [];
    chart("chart-units").setOption({
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 40, right: 40, top: 20, bottom: 60 },
      xAxis: { type: "category", data: units.map(function (u) { return u.name; }), axisLabel: { interval: 0, rotate: units.length > 6 ? 30 : 0 } },
      yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: L["b.total"], type: "bar", data: units.map(function (u) { return u.total; }) },
        { name: L["b.overdue"], type: "bar", data: units.map(function (u) { return u.overdue; }), itemStyle: { color: palette.red } },
        { name: L["b.rate"], type: "line", yAxisIndex: 1, data: units.map(function (u) { return u.rate == null ? null : Math.round(u.rate * 1000) / 10; }) }
      ]
    });
    var cats = (d.categories || []).slice().sort(function (a, b) { return a.total - b.total; });
    chart("chart-categories").setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 100, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: cats.map(function (c) { return c.name; }) },
      series: [{ name: L["b.total"], type: "bar", data: cats.map(function (c) { return c.total; }) }]
    });
    var tr = d.trend || [];
    chart("chart-trend").setOption({
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 40, right: 20, top: 20, bottom: 50 },
      xAxis: { type: "category", data: tr.map(function (p) { return p.label; }) },
      yAxis: { type: "value" },
      series: [
        { name: L["b.registered"], type: "bar", data: tr.map(function (p) { return p.registered; }) },
        { name: L["b.closed"], type: "bar", data: tr.map(function (p) { return p.closed; }), itemStyle: { color: palette.green } },
        { name: L["b.backlog"], type: "line", data: tr.map(function (p) { return p.backlog; }) }
      ]
    });
    root.dataset.drawn = String(Date.now());
  }

  function setText(id, v) { var el = document.getElementById(id); if (el) { el.textContent = v; } }

  draw(JSON.parse(root.dataset.board));
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  var every = parseInt(root.dataset.refresh || "0", 10);
  if (every > 0) {
    setInterval(function () {
      fetch("/board/data", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (x) {
          draw(x.charts);
          ["total", "overdue", "closure", "on_time", "red", "yellow", "green"].forEach(function (k) { setText("kpi-" + k, x.kpi[k]); });
          root.dataset.refreshed = String((parseInt(root.dataset.refreshed || "0", 10)) + 1);
        })
        .catch(function () { /* the next tick tries again */ });
    }, every * 1000);
  }
})();
