// Deadlines keep counting on an open page: every [data-deadline] badge (drawn by the console's one deadline helper,
// shop_admin/kernel/templatetags/console.py deadline_html) shows the time left, amber when due soon, red "overdue" once passed.
(function () {
  function clock(seconds) {
    var minutes = Math.floor(seconds / 60), h = Math.floor(minutes / 60), m = minutes % 60;
    return h ? h + "h " + m + "m" : m + "m";
  }
  function render(el) {
    var left = Math.floor((Date.parse(el.dataset.deadline) - Date.now()) / 1000);
    var late = left <= 0;
    var label = late ? el.dataset.lateLabel : el.dataset.leftLabel;
    el.textContent = (label || "{}").replace("{}", clock(Math.abs(left)));
    el.classList.toggle("bad", late);
    el.classList.toggle("warn", !late && left <= Number(el.dataset.soon || 0));
  }
  function tick() { document.querySelectorAll("[data-deadline]").forEach(render); }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 15000); });
})();
