/* Briefing page: the print button (no inline script under the CSP). */
(function () {
  "use strict";
  var buttons = document.querySelectorAll(".js-print");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
