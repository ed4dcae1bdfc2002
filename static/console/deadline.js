// Live countdown of after-sale deadlines: every element with data-deadline (ISO time) shows the time left, red when past.
(function () {
  function render(el) {
    var left = Math.floor((Date.parse(el.dataset.deadline) - Date.now()) / 1000);
    var late = left < 0;
    left = Math.abs(left);
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    var text = (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
    el.textContent = late ? (el.dataset.lateLabel || "-") + " " + text : text;
    el.classList.toggle("bad", late);
    el.classList.toggle("warn", !late && left < 4 * 3600);
  }
  function tick() { document.querySelectorAll("[data-deadline]").forEach(render); }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
