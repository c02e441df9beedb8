// restock dashboard: draws every element with a data-chart attribute with uPlot,
// again after htmx swaps content in, and sends the form token with htmx requests.
(function () {
  "use strict";
  const palette = ["#0b5cad", "#2e7d32", "#b3261e", "#7a4a00"];

  function draw(el) {
    if (el.dataset.drawn) return;
    const spec = JSON.parse(el.dataset.chart);
    const percent = spec.series.some(s => s.percent);
    const fmt = v => v == null ? "—" : percent ? (v * 100).toFixed(1) + " %" : String(Math.round(v * 10) / 10);
    const series = [{}].concat(spec.series.map((s, i) => ({
      label: s.label, stroke: s.color || palette[i % palette.length], width: spec.spark ? 2 : 2,
      fill: s.fill, dash: s.dash, spanGaps: true, value: (u, v) => fmt(v),
      paths: spec.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
      // A sparkline of one or two points shows them as dots.
      points: { show: spec.spark ? s.values.filter(v => v != null).length < 3 : undefined, size: 6 },
    })));
    const opts = {
      width: Math.max(120, el.clientWidth), height: spec.height || 60, series: series,
      legend: { show: !spec.spark }, cursor: { show: !spec.spark },
      scales: { x: { time: true } },
      axes: spec.spark ? [{ show: false }, { show: false }] : [{}, { values: (u, vals) => vals.map(fmt) }],
    };
    const data = [spec.x].concat(spec.series.map(s => s.values));
    el.textContent = "";
    const plot = new uPlot(opts, data, el);
    el.dataset.drawn = "1";
    new ResizeObserver(() => plot.setSize({ width: Math.max(120, el.clientWidth), height: opts.height })).observe(el);
  }

  function drawAll(root) { root.querySelectorAll("[data-chart]").forEach(draw); }

  document.addEventListener("DOMContentLoaded", () => drawAll(document));
  document.addEventListener("htmx:afterSettle", e => drawAll(e.target));
  document.addEventListener("htmx:configRequest", e => {
    const token = document.body.dataset.csrf;
    if (token) e.detail.headers["X-CSRF-Token"] = token;
  });
  // Show refusals (4xx) in place, as the server wrote them; 5xx stay errors.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false }, { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false }, { code: "...", swap: false, error: true },
    ];
  }
})();
