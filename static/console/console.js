// Small behaviours of the console: "/" focuses search, select-all rows, charts from the page's JSON.
document.addEventListener("keydown", (event) => {
  const search = document.querySelector("[data-search]");
  if (event.key === "/" && search && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) {
    event.preventDefault();
    search.focus();
  }
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-select-all]")) {
    document.querySelectorAll("input[name=order_no][form=bulk-form]").forEach((box) => { box.checked = event.target.checked; });
  }
});

function drawCharts() {
  const source = document.getElementById("trend-data");
  if (!source || typeof Chart === "undefined") return;
  const trend = JSON.parse(source.textContent);
  const labels = trend.map((d) => d.day.slice(5));
  const labelsText = JSON.parse(document.getElementById("chart-labels").textContent);
  new Chart(document.getElementById("chart-orders"), {
    data: {
      labels,
      datasets: [
        { type: "bar", label: labelsText.orders, data: trend.map((d) => d.orders), yAxisID: "y", backgroundColor: "#fe2c5588" },
        { type: "line", label: labelsText.gmv, data: trend.map((d) => Number(d.gmv)), yAxisID: "y1", borderColor: "#165dff", backgroundColor: "#165dff" },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
  });
  new Chart(document.getElementById("chart-refunds"), {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: labelsText.aftersale_rate, data: trend.map((d) => d.aftersale_rate), borderColor: "#722ed1", backgroundColor: "#722ed1" },
        { label: labelsText.refund_rate, data: trend.map((d) => d.refund_rate), borderColor: "#ff7d00", backgroundColor: "#ff7d00" },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { callback: (v) => v + "%" } } } },
  });
}
document.addEventListener("DOMContentLoaded", drawCharts);

function drawCouponChart() {
  const source = document.getElementById("coupon-days-data");
  if (!source || typeof Chart === "undefined") return;
  const days = JSON.parse(source.textContent);
  const labelsText = JSON.parse(document.getElementById("coupon-chart-labels").textContent);
  new Chart(document.getElementById("chart-coupon"), {
    data: {
      labels: days.map((d) => d.day.slice(5)),
      datasets: [
        { type: "bar", label: labelsText.issued, data: days.map((d) => d.issued), yAxisID: "y", backgroundColor: "#fe2c5588" },
        { type: "bar", label: labelsText.used, data: days.map((d) => d.used), yAxisID: "y", backgroundColor: "#165dff88" },
        { type: "line", label: labelsText.discount, data: days.map((d) => Number(d.discount)), yAxisID: "y1", borderColor: "#ff7d00", backgroundColor: "#ff7d00" },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
  });
}
document.addEventListener("DOMContentLoaded", drawCouponChart);
