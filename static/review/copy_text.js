// The acknowledgements page: a Copy button beside each text box, shown only where it can work
// (JavaScript and the clipboard); without it, the download links and select-and-copy remain.
(function () {
  "use strict";

  function enhance(button) {
    var box = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copy-status");
    if (!box || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(box.value).then(
        function () { status.textContent = "Copied."; },
        function () { status.textContent = "Could not copy: select the text and copy it instead."; }
      );
    });
  }

  function start() {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i++) enhance(buttons[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
