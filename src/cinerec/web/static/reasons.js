// Streams the reasons of a freshly ranked page (server-sent events) into its cards.
// Text is set with textContent only: nothing from the stream is parsed as HTML.
(function () {
  "use strict";

  function setPersona(page, text, fallback) {
    var box = document.getElementById("persona-box");
    if (!box || !text) return;
    var wrap = document.createElement("div");
    wrap.className = "persona";
    wrap.id = "persona";
    var h = document.createElement("h3");
    h.textContent = page.dataset.personaTitle || "Persona";
    var p = document.createElement("p");
    p.textContent = text;
    wrap.appendChild(h);
    wrap.appendChild(p);
    if (fallback) {
      var flag = document.createElement("p");
      flag.className = "flag";
      flag.textContent = page.dataset.personaFallbackText || "";
      wrap.appendChild(flag);
    }
    box.replaceChildren(wrap);
  }

  function finish(page) {
    page.querySelectorAll(".reason.pending").forEach(function (el) { el.remove(); });
    page.removeAttribute("data-reasons-url");
    page.dataset.streamed = "done";
  }

  function stream(page) {
    var url = page.dataset.reasonsUrl;
    if (!url || page.dataset.streamed) return;
    page.dataset.streamed = "open";
    var source = new EventSource(url);
    source.addEventListener("reason", function (e) {
      var data = JSON.parse(e.data);
      var el = page.querySelector('[data-reason-for="' + Number(data.movie_id) + '"]');
      if (!el) return;
      if (data.text) {
        el.textContent = data.text;
        el.classList.remove("pending");
      } else {
        el.remove();
      }
    });
    source.addEventListener("fallback", function () {
      var flag = document.createElement("p");
      flag.className = "flag reasons-unavailable";
      flag.setAttribute("role", "status");
      flag.textContent = page.dataset.fallbackText || "";
      page.insertBefore(flag, page.querySelector(".cards"));
    });
    source.addEventListener("persona", function (e) {
      var data = JSON.parse(e.data);
      setPersona(page, data.text, data.fallback);
    });
    source.addEventListener("done", function () {
      source.close();
      finish(page);
    });
    source.onerror = function () {  // the server went away: keep the ranked list
      source.close();
      finish(page);
    };
  }

  function scan() {
    document.querySelectorAll(".rec-page[data-reasons-url]").forEach(stream);
  }

  document.addEventListener("DOMContentLoaded", scan);
  document.addEventListener("htmx:afterSettle", scan);
})();
