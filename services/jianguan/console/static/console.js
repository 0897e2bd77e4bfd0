// The overview: charts (Chart.js, served locally) and a live refresh every 2 seconds.
(function () {
  "use strict";
  const dataNode = document.getElementById("overview-data");
  if (!dataNode) return;
  const zh = document.body.dataset.lang === "zh";
  const charts = {};
  const colors = ["#b3261e", "#1d4e89", "#a05a00", "#1b7f3b", "#6b3fa0", "#5b6475"];

  function hourLabel(ts) {
    const d = new Date((ts + 8 * 3600) * 1000); // Beijing time
    return d.toISOString().slice(5, 13).replace("T", " ") + ":00";
  }

  function draw(data) {
    const specs = {
      "chart-trend": {
        type: "line",
        data: {
          labels: data.trend.map((r) => hourLabel(r[0])),
          datasets: [{ label: zh ? "告警" : "Alerts", data: data.trend.map((r) => r[1]),
                       borderColor: colors[0], tension: 0.2 }],
        },
      },
      "chart-articles": {
        type: "bar",
        data: {
          labels: data.by_article.map((r) => r[0]),
          datasets: [
            { label: zh ? "未结" : "Open", data: data.by_article.map((r) => r[1]), backgroundColor: colors[1] },
            { label: zh ? "逾期" : "Overdue", data: data.by_article.map((r) => r[2]), backgroundColor: colors[0] },
          ],
        },
      },
      "chart-grades": {
        type: "doughnut",
        data: {
          labels: data.grades.map((r) => r[0]),
          datasets: [{ data: data.grades.map((r) => r[1]), backgroundColor: colors }],
        },
      },
    };
    for (const [id, spec] of Object.entries(specs)) {
      const canvas = document.getElementById(id);
      if (!canvas || typeof Chart === "undefined") continue;
      if (charts[id]) {
        charts[id].data = spec.data;
        charts[id].update("none");
      } else {
        charts[id] = new Chart(canvas, { type: spec.type, data: spec.data,
                                         options: { animation: false, responsive: true } });
      }
    }
  }

  function numbers(data) {
    const flat = Object.assign({}, data.totals, data.health);
    for (const node of document.querySelectorAll("[data-key]")) {
      if (node.dataset.key in flat) {
        node.dataset.value = String(flat[node.dataset.key]);
        node.textContent = String((data.shown || {})[node.dataset.key] ?? flat[node.dataset.key]);
      }
    }
    document.body.dataset.refreshed = String(data.at);
  }

  async function refresh() {
    try {
      const resp = await fetch("/api/overview" + window.location.search, { credentials: "same-origin" });
      if (resp.ok) {
        const data = await resp.json();
        numbers(data);
        draw(data);
      }
    } catch (e) { /* the next round retries */ }
  }

  draw(JSON.parse(dataNode.textContent));
  setInterval(refresh, 2000);
})();
