// The release page while the task worker publishes a big release: fetch the page now and then
// and swap in the job's progress; once the job is no longer in progress (published, failed),
// reload the whole page, whose preview and list of releases have changed. Without JavaScript
// the page's <noscript> meta refresh reloads it; "Stop updating this page" (?updates=off,
// data-refresh="0") stops either.
(function () {
  "use strict";
  var current = document.getElementById("release-job");
  if (!current || !window.fetch || !window.DOMParser) {
    return;
  }

  function seconds(element) {
    return parseInt(element.getAttribute("data-refresh") || "0", 10) || 0;
  }

  function check() {
    window.fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("release-job");
        if (!fresh || fresh.getAttribute("data-state") !== current.getAttribute("data-state")) {
          window.location.reload();
          return;
        }
        current.replaceWith(fresh);
        current = fresh;
        schedule();
      })
      .catch(function () {
        schedule(); // a network blip: try again later
      });
  }

  function schedule() {
    var wait = seconds(current);
    if (wait) {
      window.setTimeout(check, wait * 1000);
    }
  }

  schedule();
})();
