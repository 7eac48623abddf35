// htmx swaps the table and pushes a new URL without re-rendering the header, so "Save this
// view" reads the address bar when it is submitted rather than the URL the page was served at.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("[data-save-view]")) return;
  form.elements.url.value = window.location.pathname + window.location.search;
});
