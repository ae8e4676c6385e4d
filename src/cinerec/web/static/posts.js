// Shows "writing..." and disables the button while a post is written (no inline script: CSP).
(function () {
  "use strict";
  var form = document.getElementById("post-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    var working = document.getElementById("post-working");
    if (working) working.classList.add("working");
    var button = document.getElementById("post-btn");
    if (button) button.disabled = true;
  });
})();
