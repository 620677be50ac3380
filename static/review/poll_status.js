// A page that follows the task worker (the synthesis pack's PDF, a release being published, the
// toolkit's emails being queued): fetch the page now and then and bring its status up to date
// in place. Unlike a reload (what each page's <noscript> meta refresh does without JavaScript),
// this keeps the reader's focus, place and anything typed in a form.
//
// The status element (data-poll) is configured by its attributes:
// - id: found again by it in the fetched page;
// - data-refresh: seconds until the next check; 0 (finished, or "Stop updating this page",
//   ?updates=off) stops;
// - data-state: while the fetched one is the same, only its parts marked data-live (a count,
//   a progress bar, the time elapsed: nothing that takes focus) are swapped in;
// - data-poll: what a new state does. "reload": reload the page (more of it has changed);
//   "swap": swap in the new status, keeping focus in it if it was there, and announce it in the
//   element named by data-announce-to, as data-announce (a prefix) followed by the text of its
//   part that data-headline selects.
//
// Elsewhere on the page, what is true only while the status is in one state (the message flashed
// on the way here: "the emails are being queued") is marked data-of-status (the status's id) and
// data-while (that state). Once the status has left that state, it reads its data-then instead,
// or goes if it has none. Quietly: the status's own announcement says what changed, once. Also
// when the page loads: the worker may have finished before it first did.
(function () {
  "use strict";
  var current = document.querySelector("[data-poll]");
  if (!current || !current.id || !window.fetch || !window.DOMParser) {
    return;
  }
  var onChange = current.getAttribute("data-poll");
  var announce = document.getElementById(current.getAttribute("data-announce-to") || "");

  function seconds(element) {
    return parseInt(element.getAttribute("data-refresh") || "0", 10) || 0;
  }

  function swapLiveParts(fresh) {
    var parts = current.querySelectorAll("[data-live]");
    var freshParts = fresh.querySelectorAll("[data-live]");
    for (var i = 0; i < Math.min(parts.length, freshParts.length); i++) {
      parts[i].replaceWith(freshParts[i]);
    }
    current.setAttribute("data-refresh", fresh.getAttribute("data-refresh") || "0");
  }

  function outdate() {
    var state = current.getAttribute("data-state");
    var marked = document.querySelectorAll("[data-of-status]");
    for (var i = 0; i < marked.length; i++) {
      var element = marked[i];
      if (element.getAttribute("data-of-status") !== current.id) {
        continue;
      }
      if (element.getAttribute("data-while") === state) {
        continue;
      }
      var then = element.getAttribute("data-then");
      if (then) {
        element.textContent = then;
        element.removeAttribute("data-of-status");
      } else {
        element.remove();
      }
    }
  }

  function swapAll(fresh) {
    var hadFocus = current.contains(document.activeElement);
    current.replaceWith(fresh);
    current = fresh;
    if (hadFocus) {
      // What had focus is gone: keep it here, where it was, not at the top of the page.
      fresh.setAttribute("tabindex", "-1");
      fresh.focus({ preventScroll: true });
    }
    if (announce) {
      var headline = fresh.querySelector(fresh.getAttribute("data-headline") || "h2");
      var prefix = fresh.getAttribute("data-announce") || "";
      announce.textContent = headline ? prefix + headline.textContent.trim() : "";
    }
    outdate();
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
        var fresh = page.getElementById(current.id);
        var same = fresh && fresh.getAttribute("data-state") === current.getAttribute("data-state");
        if (onChange === "reload" && !same) {
          window.location.reload();
          return;
        }
        if (!fresh) {
          return; // signed out, or another page: leave this one as it is
        }
        if (same) {
          swapLiveParts(fresh);
        } else {
          swapAll(fresh);
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

  outdate();
  schedule();
})();
