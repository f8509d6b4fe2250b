// The home page's drop countdowns, ticking once a minute (progressive
// enhancement: without scripts the server-rendered text stands). Served as
// a file so that the Content-Security-Policy admits no inline script.
(function () {
  var w = document.getElementById("countdown-words").dataset;
  var offset = Number(w.now) - Date.now();
  var d = w.d, h = w.h, m = w.m, label = w.label;
  function tick() {
    document.querySelectorAll(".countdown[data-starts]").forEach(function (el) {
      var left = Math.max(0, Number(el.dataset.starts) - (Date.now() + offset));
      el.textContent = label + " " + Math.floor(left / 86400000) + " " + d + " " +
        Math.floor(left / 3600000) % 24 + " " + h + " " + Math.floor(left / 60000) % 60 + " " + m;
    });
  }
  setInterval(tick, 60000);
})();
