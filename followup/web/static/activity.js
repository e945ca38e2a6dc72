/* The dashboard's live activity: asks /events/recent every few seconds (nothing held open on the
   server), newest first. Text goes in with textContent only (never innerHTML): event data is not
   trusted markup. A hidden tab does not ask; an ended session stops asking. */
(function () {
  "use strict";
  var list = document.getElementById("activity");
  if (!list || !window.fetch) { return; }
  var KEEP = 50;
  var url = list.getAttribute("data-recent") || "/events/recent";
  var every = 3000;
  var last = null;

  function show(event) {
    var li = document.createElement("li");
    li.className = "activity-item";
    li.setAttribute("data-type", String(event.type || ""));
    var time = document.createElement("time");
    time.textContent = String(event.at || "");
    li.appendChild(time);
    li.appendChild(document.createTextNode(" " + String(event.text || "")));
    var empty = list.querySelector(".empty");
    if (empty) { list.removeChild(empty); }
    list.insertBefore(li, list.firstChild);
    while (list.children.length > KEEP) { list.removeChild(list.lastChild); }
  }

  function later() { window.setTimeout(ask, every); }

  function ask() {
    if (document.hidden) { later(); return; }
    var query = last === null ? "" : "?last_id=" + encodeURIComponent(String(last));
    fetch(url + query, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 403) {
          return "stop";  // the session ended: the next page the user opens asks them to log in
        }
        return response.ok ? response.json() : null;  // 429 or an error: ask again later
      })
      .then(function (body) {
        if (body === "stop") { return; }
        if (body && Array.isArray(body.events)) {
          body.events.forEach(show);
          last = body.last_id;
          if (body.poll_seconds > 0) { every = body.poll_seconds * 1000; }
        }
        later();
      }, later);
  }

  ask();
})();
