// The nights page's live panel: asks /api/live every 2 s and updates the page in place, no reload.
// A served file, not an inline script, so the Content-Security-Policy can forbid inline script altogether.
//
// What it fills (the page decides where; nothing here writes HTML, only text, so nothing from the store can
// become markup):
//   [data-live-root]                the panel; data-live-url overrides /api/live, data-live-every (ms) the 2 s
//   [data-live="FIELD"]             textContent = the view's FIELD (total, finished, auto, partial, manual, failed,
//                                   open, in_progress, run_id, started, at)
//   progress[data-live-progress]    value = finished, max = total
//   [data-live-percent]             "NN %" of total finished
//   tbody[data-live-workers]        one row per worker: id, host, condition, case, cases done
//   [data-live-running] / [data-live-idle]   shown while a night is going on / while none is
//   [data-live-status]              "updated HH:MM:SS", or why the updates stopped
(function () {
  "use strict";
  var root = document.querySelector("[data-live-root]") || document.body;
  var url = root.getAttribute("data-live-url") || "/api/live";
  var every = parseInt(root.getAttribute("data-live-every") || "2000", 10);
  var timer = null;

  function text(el, value) {
    el.textContent = value === null || value === undefined ? "–" : String(value);
  }

  function setAll(selector, value) {
    root.querySelectorAll(selector).forEach(function (el) { text(el, value); });
  }

  function workerRow(w) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-worker", w.id);
    tr.className = "worker-" + String(w.condition).toLowerCase();
    [w.id, w.host, w.condition, w.case_id, w.done].forEach(function (value, i) {
      var td = document.createElement("td");
      text(td, value);
      if (i === 2 && w.condition === "LOST") { td.className = "lost"; }
      if (i === 4) { td.className = "num"; }
      tr.appendChild(td);
    });
    return tr;
  }

  function show(view) {
    var running = view.run_id !== null && view.run_id !== undefined;
    root.querySelectorAll("[data-live]").forEach(function (el) { text(el, view[el.getAttribute("data-live")]); });
    root.querySelectorAll("progress[data-live-progress]").forEach(function (el) {
      el.max = Math.max(1, view.total || 0);
      el.value = view.finished || 0;
    });
    setAll("[data-live-percent]", view.total ? Math.floor(100 * view.finished / view.total) + " %" : "–");
    root.querySelectorAll("tbody[data-live-workers]").forEach(function (body) {
      var rows = (view.workers || []).map(workerRow);
      body.replaceChildren.apply(body, rows);
    });
    root.querySelectorAll("[data-live-running]").forEach(function (el) { el.hidden = !running; });
    root.querySelectorAll("[data-live-idle]").forEach(function (el) { el.hidden = running; });
    setAll("[data-live-status]", "updated " + new Date().toLocaleTimeString());
  }

  function stop(why) {
    if (timer !== null) { clearInterval(timer); timer = null; }
    setAll("[data-live-status]", why);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, redirect: "manual" })
      .then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) {
          // Logged out or the session expired: a reload shows the login page.
          throw new Error(response.status === 0 || response.type === "opaqueredirect"
            ? "session ended: reload to log in" : "HTTP " + response.status);
        }
        return response.json();
      })
      .then(show)
      .catch(function (err) { stop("live updates stopped (" + err.message + ")"); });
  }

  poll();
  timer = setInterval(poll, every);
})();
