// Times in the browser's own zone. The server writes every time in UTC, as
// <time datetime="2026-12-02T01:02:03Z">2026-12-02 01:02 UTC</time>; here each gets its text in
// local time and its UTC text as the tooltip. data-format="time" shows the time of day only,
// "date" the day only. Applied on load and after every htmx swap.
(function () {
  "use strict";

  var FORMATS = {
    time: { hour: "2-digit", minute: "2-digit" },
    date: { year: "numeric", month: "short", day: "numeric" },
    datetime: { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" },
  };

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function utcText(date) {
    return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) +
      " " + pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + ":" + pad(date.getUTCSeconds()) + " UTC";
  }

  function localise(root) {
    var times = root.querySelectorAll ? root.querySelectorAll("time[datetime]") : [];
    for (var i = 0; i < times.length; i++) {
      var element = times[i];
      var date = new Date(element.getAttribute("datetime"));
      if (isNaN(date.getTime())) continue;
      var format = FORMATS[element.dataset.format] || FORMATS.datetime;
      element.textContent = date.toLocaleString([], format);
      element.title = utcText(date);
      element.dataset.localised = "";
    }
  }

  window.meshdashTime = { utcText: utcText, localise: localise };
  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  document.addEventListener("htmx:afterSettle", function () { localise(document); });
})();
