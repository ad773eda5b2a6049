/* Dashboards: draws each figure whose JSON the server put in a <script type="application/json"
   class="plotly-figure" data-target="..."> element, with the vendored plotly.js (loaded only on dashboard
   pages). The data tables beneath the charts carry the same numbers, so the page works without it. */
(function () {
  "use strict";

  function readJSON(el) {
    try { return JSON.parse(el.textContent || "null"); } catch (e) { return null; }
  }

  function draw() {
    if (typeof window.Plotly === "undefined") { return; }
    var configEl = document.getElementById("plotly-config");
    var config = (configEl && readJSON(configEl)) || {};
    var figures = document.querySelectorAll("script.plotly-figure");
    for (var i = 0; i < figures.length; i++) {
      var figure = readJSON(figures[i]);
      var target = document.getElementById(figures[i].getAttribute("data-target"));
      if (!figure || !target) { continue; }
      target.classList.add("plot-drawn");
      window.Plotly.newPlot(target, figure.data || [], figure.layout || {}, config);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
