// Supervisor dashboard charts (ECharts). The server builds the numbers; this file only draws
// them: `data-chart` holds the JSON, `data-src` names an endpoint that answers it.
// No inline script (CSP script-src 'self'); tooltips render in the canvas (richText), so no
// inline styles either (CSP style-src 'self').
(function () {
  "use strict";
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif';
  var COLORS = ["#1a5fb4", "#b3261e", "#1e7b34", "#8a5a00", "#6b3fa0", "#00838f", "#5b6472"];

  function base() {
    return {
      color: COLORS,
      textStyle: { fontFamily: FONT },
      tooltip: { renderMode: "richText", confine: true },
      animation: false
    };
  }

  function option(spec) {
    var o = base();
    if (spec.type === "trend") {
      o.tooltip.trigger = "axis";
      o.legend = { top: 0 };
      o.grid = { left: 48, right: 48, top: 32, bottom: 28 };
      o.xAxis = { type: "category", data: spec.labels };
      o.yAxis = [
        { type: "value", name: "件", minInterval: 1 },
        { type: "value", name: "%", min: 0, max: 100 }
      ];
      o.series = spec.series.map(function (s) {
        return s.kind === "bar"
          ? { name: s.name, type: "bar", data: s.data, yAxisIndex: 0, barMaxWidth: 18 }
          : { name: s.name, type: "line", data: s.data, yAxisIndex: 1, connectNulls: true,
              valueFormatter: function (v) { return v == null ? "—" : v.toFixed(1) + "%"; } };
      });
      return o;
    }
    if (spec.type === "hbar") {
      o.tooltip.trigger = "axis";
      o.grid = { left: 8, right: 32, top: 8, bottom: 8, containLabel: true };
      o.xAxis = { type: "value", minInterval: 1 };
      o.yAxis = { type: "category", data: spec.labels.slice().reverse() };
      o.series = [{ type: "bar", data: spec.values.slice().reverse(), barMaxWidth: 16,
        label: { show: true, position: "right" } }];
      return o;
    }
    if (spec.type === "pie") {
      o.tooltip.trigger = "item";
      o.legend = { orient: "vertical", right: 0, top: "middle" };
      o.series = [{ type: "pie", radius: ["35%", "65%"], center: ["38%", "50%"],
        label: { formatter: "{b} {c}" },
        data: spec.labels.map(function (l, i) { return { name: l, value: spec.values[i] }; }) }];
      return o;
    }
    return o;
  }

  function empty(spec) {
    if (spec.type === "trend") {
      return !spec.labels.length;
    }
    return !spec.values || !spec.values.length;
  }

  function draw(el, spec) {
    if (empty(spec)) {
      el.classList.add("no-data");
      el.textContent = "本期暂无数据";
      return;
    }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    el.setAttribute("data-drawn", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      draw(el, JSON.parse(el.getAttribute("data-chart")));
    });
    document.querySelectorAll("[data-src]").forEach(function (el) {
      el.classList.add("loading");
      el.textContent = "正在计算…";
      fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { "X-Hotline-Poll": "1" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (spec) { el.classList.remove("loading"); el.textContent = ""; draw(el, spec); })
        .catch(function () { el.classList.remove("loading"); el.textContent = "趋势数据加载失败，请刷新页面重试。"; });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
