// Charts of the analytics page, drawn with the vendored Chart.js (and its matrix plugin
// for the heatmaps) from the JSON the page embeds; nothing is fetched.
(function () {
  "use strict";
  const source = document.getElementById("analytics-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const BLUE = "#2f5bea";
  const ORANGE = "#e8833a";
  const GREY = "#9aa1b1";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#4a5366";
  // No animation: the charts are read, not watched, and screenshots stay deterministic.
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const charts = (window.tenureCharts = {});

  const currency = (data.overview && data.overview.currency) || "USD";
  const money = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
  const exponent = money.resolvedOptions().maximumFractionDigits;
  const compact = new Intl.NumberFormat(undefined, {
    style: "currency", currency: currency, notation: "compact", maximumFractionDigits: 1,
  });
  const major = (minor) => minor / Math.pow(10, exponent);
  const percent = (v) => (v == null ? "—" : (100 * v).toFixed(1) + "%");

  function canvas(id) {
    return document.getElementById(id);
  }

  function note(id, text) {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  // Sequential blue scale for heatmaps: 0 -> pale, 1 -> deep.
  function heat(value) {
    if (value == null) return "rgba(0,0,0,0)";
    const t = Math.max(0, Math.min(1, value));
    const from = [238, 242, 252];
    const to = [23, 55, 168];
    const rgb = from.map((f, i) => Math.round(f + (to[i] - f) * t));
    return "rgb(" + rgb.join(",") + ")";
  }

  function clvHistogram() {
    const h = data.clv_histogram;
    const el = canvas("chart-clv");
    if (!el || !h || !h.counts.length) return;
    const labels = h.counts.map((_, i) => compact.format(major(h.edges_minor[i])));
    const counts = h.counts.slice();
    if (h.overflow) {
      labels.push("≥ " + compact.format(major(h.edges_minor[h.edges_minor.length - 1])));
      counts.push(h.overflow);
    }
    charts.clv = new Chart(el, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: "Customers", data: counts, backgroundColor: BLUE, barPercentage: 1, categoryPercentage: 0.95 }] },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => {
                const i = items[0].dataIndex;
                if (i >= h.counts.length) return labels[i];
                return money.format(major(h.edges_minor[i])) + " to " + money.format(major(h.edges_minor[i + 1]));
              },
            },
          },
        },
        scales: {
          x: { title: { display: true, text: "12-month CLV (from)" }, ticks: { maxRotation: 0, autoSkip: true } },
          y: { title: { display: true, text: "Customers" }, beginAtZero: true },
        },
      },
    });
  }

  function matrix(el, cells, xLabels, yLabels, options) {
    return new Chart(el, {
      type: "matrix",
      data: {
        datasets: [{
          label: options.label,
          data: cells,
          backgroundColor: (ctx) => heat(ctx.raw ? ctx.raw.v : null),
          borderWidth: 0,
          width: ({ chart }) => (chart.chartArea || {}).width / xLabels.length - 1,
          height: ({ chart }) => (chart.chartArea || {}).height / yLabels.length - 1,
        }],
      },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: () => "", label: options.tooltip } },
        },
        scales: {
          x: { type: "category", labels: xLabels, offset: true, grid: { display: false }, title: { display: true, text: options.xTitle } },
          y: { type: "category", labels: yLabels, offset: true, reverse: options.reverseY, grid: { display: false }, title: { display: true, text: options.yTitle } },
        },
      },
    });
  }

  function pAliveHeatmap() {
    const g = data.p_alive;
    const el = canvas("chart-palive");
    if (!el || !g || !g.cells.length) return;
    const cells = g.cells.map((c) => ({
      x: g.frequency_labels[c.frequency],
      y: g.recency_labels[c.recency],
      v: c.p_alive,
      n: c.customers,
    }));
    charts.palive = matrix(el, cells, g.frequency_labels, g.recency_labels, {
      label: "P(alive)",
      xTitle: "Repeat purchase days",
      yTitle: "Months since last purchase",
      reverseY: false,
      tooltip: (ctx) => [
        ctx.raw.x + " repeats, " + ctx.raw.y + " months since last purchase",
        "P(alive) " + percent(ctx.raw.v) + " · " + ctx.raw.n.toLocaleString() + " customers",
      ],
    });
  }

  function cohortHeatmap() {
    const c = data.cohorts;
    const el = canvas("chart-cohorts");
    if (!el || !c || !c.cohorts.length) return;
    const cells = [];
    c.rates.forEach((row, i) => row.forEach((v, j) => {
      if (v != null) cells.push({ x: String(c.k[j]), y: c.cohorts[i], v: v, n: c.sizes[i] });
    }));
    const top = Math.max(0.0001, ...cells.map((cell) => cell.v));
    cells.forEach((cell) => (cell.scaled = cell.v / top));
    charts.cohorts = new Chart(el, {
      type: "matrix",
      data: {
        datasets: [{
          label: "Retention",
          data: cells,
          backgroundColor: (ctx) => heat(ctx.raw ? ctx.raw.scaled : null),
          borderWidth: 0,
          width: ({ chart }) => (chart.chartArea || {}).width / c.k.length - 1,
          height: ({ chart }) => (chart.chartArea || {}).height / c.cohorts.length - 1,
        }],
      },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: () => "",
              label: (ctx) => [
                "Cohort " + ctx.raw.y + " (" + ctx.raw.n.toLocaleString() + " customers)",
                "Month " + ctx.raw.x + ": " + percent(ctx.raw.v) + " bought again",
              ],
            },
          },
        },
        scales: {
          x: { type: "category", labels: c.k.map(String), offset: true, grid: { display: false }, title: { display: true, text: "Months after first purchase (k)" } },
          y: { type: "category", labels: c.cohorts, offset: true, reverse: false, grid: { display: false }, title: { display: true, text: "First-purchase month" } },
        },
      },
    });
  }

  function backtestByFrequency() {
    const b = data.backtest;
    const el = canvas("chart-backtest");
    if (!el || !b || !b.by_frequency) {
      note("backtest-note", b && b.skipped ? b.skipped : "No backtest yet.");
      return;
    }
    const rows = b.by_frequency;
    charts.backtest = new Chart(el, {
      type: "bar",
      data: {
        labels: rows.map((r) => r.frequency),
        datasets: [
          { label: "Actual", data: rows.map((r) => r.actual), backgroundColor: GREY },
          { label: "Predicted (BG/NBD)", data: rows.map((r) => r.predicted), backgroundColor: BLUE },
        ],
      },
      options: {
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { title: { display: true, text: "Repeat purchase days in calibration" } },
          y: { title: { display: true, text: "Mean holdout purchases" }, beginAtZero: true },
        },
      },
    });
    const t = b.totals;
    note(
      "backtest-note",
      "Calibration to " + b.calibration_end + ", holdout " + b.holdout_days + " days, " +
        b.customers.toLocaleString() + " customers: " + Math.round(t.predicted).toLocaleString() +
        " predicted vs " + Math.round(t.actual).toLocaleString() + " actual repeat purchases (" +
        (t.error_pct >= 0 ? "+" : "") + t.error_pct.toFixed(1) + "%).",
    );
  }

  // A dashed vertical line at the end of the calibration period.
  const calibrationLine = {
    id: "calibrationLine",
    afterDatasetsDraw(chart, _args, options) {
      if (options.index == null) return;
      const x = chart.scales.x.getPixelForValue(options.index);
      const area = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = "#6b7385";
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(x, area.top);
      ctx.lineTo(x, area.bottom);
      ctx.stroke();
      ctx.fillStyle = "#6b7385";
      ctx.fillText("holdout →", x + 4, area.top + 10);
      ctx.restore();
    },
  };

  function cumulative() {
    const b = data.backtest;
    const c = b && b.cumulative;
    const el = canvas("chart-cumulative");
    if (!el || !c) return;
    charts.cumulative = new Chart(el, {
      type: "line",
      data: {
        labels: c.weeks,
        datasets: [
          { label: "Actual", data: c.actual, borderColor: GREY, backgroundColor: GREY, pointRadius: 0, borderWidth: 2 },
          { label: "Predicted (BG/NBD)", data: c.predicted, borderColor: BLUE, backgroundColor: BLUE, pointRadius: 0, borderWidth: 2, borderDash: [6, 3] },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" }, calibrationLine: { index: c.calibration_weeks - 1 } },
        scales: {
          x: { ticks: { maxTicksLimit: 6, maxRotation: 0, autoSkipPadding: 12 }, title: { display: true, text: "Week ending" } },
          y: { title: { display: true, text: "Cumulative repeat purchases" }, beginAtZero: true },
        },
      },
      plugins: [calibrationLine],
    });
    note("cumulative-note", "Weekly, for " + c.customers.toLocaleString() + " customers; the model was fitted on the weeks left of the dashed line.");
  }

  function calibration() {
    const rows = data.churn_calibration;
    const el = canvas("chart-calibration");
    if (!el || !rows || !rows.length) {
      note("calibration-note", "The churn model was not fitted (see Models below).");
      return;
    }
    charts.calibration = new Chart(el, {
      type: "scatter",
      data: {
        datasets: [
          {
            label: "Churn model",
            data: rows.map((r) => ({ x: r.mean_predicted, y: r.observed_rate, n: r.count })),
            borderColor: ORANGE, backgroundColor: ORANGE, showLine: true,
            pointRadius: (ctx) => (ctx.raw ? Math.max(3, Math.min(10, Math.sqrt(ctx.raw.n) / 4)) : 3),
          },
          { label: "Perfect calibration", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: GREY, borderDash: [4, 4], showLine: true, pointRadius: 0 },
        ],
      },
      options: {
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: (ctx) => "predicted " + percent(ctx.raw.x) + ", observed " + percent(ctx.raw.y) + (ctx.raw.n ? " (" + ctx.raw.n.toLocaleString() + " customers)" : "") } },
        },
        scales: {
          x: { min: 0, max: 1, title: { display: true, text: "Predicted churn probability (cross-validated)" } },
          y: { min: 0, max: 1, title: { display: true, text: "Observed churn rate" } },
        },
      },
    });
    note("calibration-note", "Out-of-fold predictions on customers as of the cutoff, binned by predicted probability; point size grows with customers.");
  }

  function segments() {
    const rows = data.segments;
    const el = canvas("chart-segments");
    if (!el || !rows) return;
    charts.segments = new Chart(el, {
      type: "bar",
      data: {
        labels: rows.map((r) => r.segment),
        datasets: [{ label: "Customers", data: rows.map((r) => r.customers), backgroundColor: BLUE }],
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, title: { display: true, text: "Customers" } } },
      },
    });
  }

  clvHistogram();
  pAliveHeatmap();
  backtestByFrequency();
  cumulative();
  calibration();
  segments();
  cohortHeatmap();
})();
