// History charts' time axes in the browser's local time. The server draws each chart's ticks at
// whole UTC hours and days, labelled in UTC; here they are drawn again at whole local hours and
// days (the same spacing, data-tick seconds), labelled in local time with the UTC time as the
// tooltip. Rollout markers get their local time in the tooltip too. Applied on load and after
// every htmx swap.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var DAY = 86400;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function utcText(date) {
    return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) +
      " " + pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + " UTC";
  }

  // The local-time ticks from start to end (unix seconds), `step` seconds apart.
  function localTicks(start, end, step) {
    var ticks = [];
    if (step >= DAY) {
      var day = new Date(start * 1000);
      day.setHours(0, 0, 0, 0);
      if (day.getTime() < start * 1000) day.setDate(day.getDate() + 1);
      for (; day.getTime() <= end * 1000 && ticks.length < 100; day.setDate(day.getDate() + step / DAY)) {
        ticks.push(new Date(day.getTime()));
      }
      return ticks;
    }
    var offset = -new Date(start * 1000).getTimezoneOffset() * 60;
    var first = Math.ceil((start + offset) / step) * step - offset;
    for (var t = first; t <= end && ticks.length < 100; t += step) ticks.push(new Date(t * 1000));
    return ticks;
  }

  function label(date, step) {
    var midnight = date.getHours() === 0 && date.getMinutes() === 0;
    if (step >= DAY || (midnight && step >= 3600)) {
      return date.toLocaleDateString([], { month: "short", day: "numeric" });
    }
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function element(name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    for (var key in attributes) node.setAttribute(key, attributes[key]);
    if (text) node.textContent = text;
    return node;
  }

  function drawAxis(svg) {
    var data = svg.dataset;
    var start = +data.start, end = +data.end, step = +data.tick;
    var left = +data.left, width = +data.plotWidth, bottom = +data.plotBottom;
    var axis = svg.querySelector("g.ticks");
    if (!axis || !(end > start) || !(step > 0)) return;
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    localTicks(start, end, step).forEach(function (date) {
      var x = (left + (date.getTime() / 1000 - start) / (end - start) * width).toFixed(1);
      var tick = element("g", { "class": "tick", "data-t": String(date.getTime() / 1000) });
      tick.appendChild(element("line", { x1: x, x2: x, y1: data.top || 3, y2: bottom }));
      var text = element("text", { "class": "axis", x: x, y: bottom + 12, "text-anchor": "middle" }, label(date, step));
      text.appendChild(element("title", {}, utcText(date)));
      tick.appendChild(text);
      axis.appendChild(tick);
    });
    svg.dataset.axis = "local";
  }

  function localiseMarkers(svg) {
    var markers = svg.querySelectorAll("[data-marker-t]");
    for (var i = 0; i < markers.length; i++) {
      var date = new Date(+markers[i].dataset.markerT * 1000);
      var title = markers[i].querySelector("title");
      if (title) title.textContent = markers[i].dataset.markerLabel + " at " + date.toLocaleString() + " (" + utcText(date) + ")";
    }
  }

  function apply() {
    var charts = document.querySelectorAll("svg.history-chart[data-tick]");
    for (var i = 0; i < charts.length; i++) {
      drawAxis(charts[i]);
      localiseMarkers(charts[i]);
    }
  }

  document.addEventListener("DOMContentLoaded", apply);
  document.addEventListener("htmx:afterSettle", apply);
})();
