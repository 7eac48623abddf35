// The triage page: its auto-refresh skips its turn while a mute form is open or being typed in,
// so a refresh never throws away what someone is writing. Here, not in an htmx trigger filter:
// htmx evaluates those as code, which the Content-Security-Policy forbids.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.hasAttribute("data-auto-refresh")) return;
    var region = elt.closest("#triage");
    if (!region) return;
    var active = document.activeElement;
    if (region.querySelector("details.mute-form[open]") || (active && active.form && region.contains(active))) {
      event.preventDefault();
    }
  });
})();
