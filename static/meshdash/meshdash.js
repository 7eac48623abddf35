// meshdash: the little the server cannot do. "/" focuses search; copy buttons copy; hidden tabs
// do not auto-refresh; the keyboard moves through lists and pages (j, k, Enter, g o/w/n/p, ?).
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.querySelector("[data-search]");
    if (!search) return;
    event.preventDefault();
    search.focus();
    search.select();
  });

  // Auto-refreshes skip their turn while the tab is hidden. Here, not in an htmx trigger filter:
  // htmx evaluates those as code, which the Content-Security-Policy forbids.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.visibilityState !== "visible" && event.detail.elt.hasAttribute("data-auto-refresh")) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      button.textContent = "copied";
      setTimeout(function () { button.textContent = "copy"; }, 1500);
    });
  });

  // --- Keyboard. j/k move through the rows of the page's first list, Enter opens the selected
  // row, "g" then a letter goes to a page of the header (its link keeps the window), "?" lists
  // the keys. Never while typing, nor with a modifier held.
  var KEYS = [
    ["j", "next row"],
    ["k", "previous row"],
    ["Enter", "open the selected row"],
    ["g o", "overview"],
    ["g w", "workloads"],
    ["g n", "namespaces"],
    ["g p", "pods"],
    ["g s", "services"],
    ["/", "search"],
    ["?", "this list of keys"],
  ];
  var selected = -1;
  var goPending = 0;

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function listRows() {
    return Array.prototype.filter.call(
      document.querySelectorAll("main table tbody tr"),
      function (row) { return row.querySelector("a[href]"); }
    );
  }

  function rowLink(row) {
    // The row's own page: the link marked as such, else its name cell's, else its last link
    // (a workload row links its namespace first, then itself).
    var links = row.querySelectorAll("a[href]");
    return row.querySelector("a[data-open]") || row.querySelector("td.col-name a[href]") ||
      links[links.length - 1];
  }

  function select(index) {
    var rows = listRows();
    if (!rows.length) return;
    rows.forEach(function (row) { row.classList.remove("kb-selected"); row.removeAttribute("aria-selected"); });
    selected = Math.max(0, Math.min(rows.length - 1, index));
    var row = rows[selected];
    row.classList.add("kb-selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function keyHelp() {
    var dialog = document.getElementById("kb-help");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "kb-help";
      dialog.className = "kb-help";
      var title = document.createElement("h2");
      title.textContent = "Keyboard";
      dialog.appendChild(title);
      var list = document.createElement("dl");
      KEYS.forEach(function (pair) {
        var dt = document.createElement("dt");
        pair[0].split(" ").forEach(function (key, i) {
          if (i) dt.appendChild(document.createTextNode(" then "));
          var kbd = document.createElement("kbd");
          kbd.textContent = key;
          dt.appendChild(kbd);
        });
        var dd = document.createElement("dd");
        dd.textContent = pair[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      dialog.appendChild(list);
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "Close";
      close.addEventListener("click", function () { dialog.close(); });
      dialog.appendChild(close);
      document.body.appendChild(dialog);
    }
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var help = document.getElementById("kb-help");
    if (help && help.open && event.key !== "?") return;
    if (goPending && Date.now() - goPending < 1500) {
      goPending = 0;
      var link = document.querySelector('.main-nav a[data-go="' + event.key + '"]');
      if (link) {
        event.preventDefault();
        window.location.assign(link.href);
      }
      return;
    }
    goPending = 0;
    if (event.key === "g") {
      goPending = Date.now();
    } else if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      select(selected < 0 ? 0 : selected + (event.key === "j" ? 1 : -1));
    } else if (event.key === "Enter" && selected >= 0) {
      var row = listRows()[selected];
      var target = row && rowLink(row);
      if (target) {
        event.preventDefault();
        window.location.assign(target.href);
      }
    } else if (event.key === "?") {
      event.preventDefault();
      keyHelp();
    }
  });

  // An auto-refresh or a sort replaces the rows: the selection stays on the same place.
  document.addEventListener("htmx:afterSettle", function () {
    if (selected >= 0) select(selected);
  });
})();
