/* Dashboards: draws each figure whose JSON the server put in a <script type="application/json"
   class="plotly-figure" data-target="..."> element, with the vendored plotly.js (loaded only on dashboard
   pages). The data tables beneath the charts carry the same numbers, so the page works without it. */
(function () {
  "use strict";

  function readJSON(el) {
    try { return JSON.parse(el.textContent || "null"); } catch (e) { return null; }
  }

  /* The drawn chart is the image screen readers are told about (its caption names it, its table describes it);
     plotly's download button sits beside it, not inside an image, so that it is a button they can name. */
  function nameTheImage(plot) {
    var svg = plot && plot.querySelector("svg.main-svg");
    if (!svg) { return; }
    ["role", "aria-labelledby", "aria-describedby"].forEach(function (name) {
      if (plot.hasAttribute(name)) { svg.setAttribute(name, plot.getAttribute(name)); plot.removeAttribute(name); }
    });
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
      window.Plotly.newPlot(target, figure.data || [], figure.layout || {}, config).then(nameTheImage);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
