// Progressive enhancement for the contributor's journey; every page works without it.
// The live character count follows the GOV.UK character count: the hint gives the limit,
// this adds "You have N characters remaining" below the box, announced once typing pauses.
(function () {
  "use strict";

  function plural(n, word) {
    return n.toLocaleString("en-GB") + " " + word + (n === 1 ? "" : "s");
  }

  function message(length, limit) {
    var left = limit - length;
    if (left >= 0) return "You have " + plural(left, "character") + " remaining";
    return "You have " + plural(-left, "character") + " too many";
  }

  function enhance(textarea) {
    var limit = parseInt(textarea.getAttribute("data-maxlength"), 10);
    if (!limit) return;
    var visible = document.createElement("div");
    visible.className = "character-count-status";
    visible.setAttribute("aria-hidden", "true");
    var spoken = document.createElement("div");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", spoken);
    textarea.insertAdjacentElement("afterend", visible);
    var timer = null;
    function update(announce) {
      var text = message(textarea.value.length, limit);
      visible.textContent = text;
      visible.classList.toggle("is-over", textarea.value.length > limit);
      if (announce) {
        clearTimeout(timer);
        timer = setTimeout(function () { spoken.textContent = text; }, 1000);
      }
    }
    textarea.addEventListener("input", function () { update(true); });
    update(false);
  }

  function start() {
    var boxes = document.querySelectorAll("textarea[data-maxlength]");
    for (var i = 0; i < boxes.length; i++) enhance(boxes[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
