// The synthesis pack's PDF page, while the worker makes the PDF: fetch the page now and then
// and, when the PDF's state changes, swap in the new status and announce it. Unlike a reload
// (what the page's <noscript> meta refresh does without JavaScript), this keeps the reader's
// focus and place. It stops once the PDF is ready, failed or stalled, or when the person
// chose "Stop updating this page" (data-refresh="0").
(function () {
  "use strict";
  var current = document.getElementById("pack-pdf-status");
  var announce = document.getElementById("pack-pdf-announce");
  if (!current || !announce || !window.fetch || !window.DOMParser) {
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
        var fresh = page.getElementById("pack-pdf-status");
        if (!fresh) {
          return; // signed out, or another page: leave this one as it is
        }
        if (fresh.getAttribute("data-state") !== current.getAttribute("data-state")) {
          current.replaceWith(fresh);
          current = fresh;
          var heading = fresh.querySelector("h2");
          announce.textContent = heading ? "The PDF: " + heading.textContent : "";
        } else {
          var elapsed = current.querySelector("[data-elapsed]");
          var elapsedNow = fresh.querySelector("[data-elapsed]");
          if (elapsed && elapsedNow) {
            elapsed.textContent = elapsedNow.textContent;
          }
        }
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
