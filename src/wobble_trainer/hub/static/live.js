// Live view: poll the board's newest state 20 times a second and move the tilt cursor.
(function () {
  "use strict";
  var root = document.getElementById("live");
  var url = root.getAttribute("data-url");
  var limit = parseFloat(root.getAttribute("data-limit"));
  var dot = document.getElementById("cursor");
  var text = document.getElementById("state");
  var last = -1;
  function show(s) {
    if (s.seq === last) { return; }
    last = s.seq;
    var x = 100 + Math.max(-1, Math.min(1, s.roll_deg / limit)) * 95;
    var y = 100 - Math.max(-1, Math.min(1, s.pitch_deg / limit)) * 95;
    dot.setAttribute("cx", x.toFixed(1));
    dot.setAttribute("cy", y.toFixed(1));
    text.textContent = (s.activity || "") + " · " + (s.state || "") + " · pitch " +
      s.pitch_deg.toFixed(1) + "°, roll " + s.roll_deg.toFixed(1) + "°";
    root.setAttribute("data-seq", String(s.seq));
  }
  function poll() {
    fetch(url, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s && s.seq !== undefined) { show(s); } })
      .catch(function () {})
      .then(function () { setTimeout(poll, 50); });
  }
  poll();
})();
