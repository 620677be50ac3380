// Progressive enhancement for the contributor's journey; every page works without it.
// The live character count follows the GOV.UK character count: the hint gives the limit,
// this adds "You have N characters remaining" below the box, announced once typing pauses.
// On About you (and the status page), "Add another co-contributor" shows the next row without
// a round trip, and the credit line preview follows what is typed.
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

  // "Add another co-contributor": without JavaScript the button saves the page and shows it
  // again with one more row; here it shows the next hidden row at once.
  function addAnother(button) {
    button.addEventListener("click", function (event) {
      var next = document.querySelector("fieldset.co-contributor[hidden]");
      if (!next) return;
      event.preventDefault();
      next.hidden = false;
      var first = next.querySelector("input");
      if (first) first.focus();
      button.value = String(parseInt(button.value, 10) + 1);
      if (!document.querySelector("fieldset.co-contributor[hidden]")) button.hidden = true;
    });
  }

  // The credit line, worded as Submission.credit_line_for() words it (and _previews() in
  // journey/views.py fills in): placeholders until a name is typed, then the contributor as
  // chosen and each co-contributor as "Name, Organisation", separated by "; ".
  function creditPreview(form) {
    var outputs = document.querySelectorAll("[data-credit-preview]");
    var name = form.querySelector("#id_name");
    var organisation = form.querySelector("#id_organisation");
    if (!outputs.length || !name || !organisation) return;

    function value(input) { return input ? input.value.trim() : ""; }
    function joined(parts, separator) {
      return parts.filter(function (part) { return part; }).join(separator);
    }
    function others() {
      var lines = [];
      for (var n = 1; n <= 5; n++) {
        lines.push(joined([value(form.querySelector("#id_co_" + n + "_name")),
                           value(form.querySelector("#id_co_" + n + "_organisation"))], ", "));
      }
      return lines;
    }
    function update() {
      var typedName = value(name);
      var shownName = typedName || "Your Name";
      var shownOrganisation = typedName ? value(organisation) : "Your Organisation";
      var lines = {
        name_and_organisation: joined([joined([shownName, shownOrganisation], ", ")].concat(others()), "; "),
        organisation_only: joined([shownOrganisation].concat(others()), "; ")
      };
      for (var i = 0; i < outputs.length; i++) {
        var line = lines[outputs[i].getAttribute("data-credit-preview")];
        outputs[i].textContent = line || outputs[i].getAttribute("data-empty");
      }
    }
    form.addEventListener("input", update);
  }

  function start() {
    var boxes = document.querySelectorAll("textarea[data-maxlength]");
    for (var i = 0; i < boxes.length; i++) enhance(boxes[i]);
    var button = document.getElementById("add-co-contributor");
    if (button) addAnother(button);
    var preview = document.getElementById("credit-preview");
    if (preview && preview.closest("form")) creditPreview(preview.closest("form"));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
