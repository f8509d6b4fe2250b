// The explorer's live figures: every few seconds the latest blocks and
// transactions are replaced by those of a fresh copy of the same page
// (server-rendered and escaped). Served as a file so that the
// Content-Security-Policy admits no inline script.
(function () {
  var latest = document.getElementById("live-latest");
  var every = Number(latest.dataset.refreshMs) || 5000;
  function refresh() {
    if (document.hidden) { return; }
    fetch(location.pathname + location.search, { headers: { accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["live-latest", "live-stats"].forEach(function (id) {
          var now = document.getElementById(id), next = fresh.getElementById(id);
          if (now && next) { now.replaceChildren.apply(now, Array.from(next.childNodes)); }
        });
      })
      .catch(function () {});
  }
  setInterval(refresh, every);
})();
