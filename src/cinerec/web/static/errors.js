// Makes failed htmx requests visible: a message at the top of the page with a way to go on
// (reload, or start a new profile). The server's own sentence is shown when it sent one;
// text is set with textContent only, nothing from a response is parsed into the page.
(function () {
  "use strict";

  function serverSentence(xhr) {
    if (!xhr || !xhr.responseText) return "";
    var type = xhr.getResponseHeader("Content-Type") || "";
    try {
      if (type.indexOf("application/json") === 0) return JSON.parse(xhr.responseText).detail || "";
      if (type.indexOf("text/html") === 0) {
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var el = doc.getElementById("error-message");
        return el ? el.textContent.trim() : "";
      }
    } catch (e) { /* an unreadable body: the generic message below */ }
    return "";
  }

  function show(message) {
    var box = document.getElementById("request-error");
    if (!box) return;
    box.querySelector(".request-error-text").textContent = message;
    box.querySelector(".request-error-reload").setAttribute("href", window.location.pathname + window.location.search);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("request-error");
    var xhr = event.detail && event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    show(serverSentence(xhr) || ((box && box.dataset.message) || "The request failed.") + (status ? " (" + status + ")" : ""));
  });
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("request-error");
    show((box && box.dataset.offline) || "The server could not be reached.");
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("request-error");
    if (box) box.hidden = true;
  });
})();
