/* The dashboard's live activity stream: server-sent events from /events/stream, newest first.
   Text goes in with textContent only (never innerHTML): event data is not trusted markup. */
(function () {
  "use strict";
  var list = document.getElementById("activity");
  if (!list || !window.EventSource) { return; }
  var KEEP = 50;
  var source = new EventSource(list.getAttribute("data-stream") || "/events/stream");
  source.addEventListener("activity", function (message) {
    var event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
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
  });
})();
