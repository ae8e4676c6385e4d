// Streams chat answers over server-sent events read from a fetch() body (POST). Without
// JavaScript, or without streaming fetch, the form posts normally and the page shows the answer.
(function () {
  "use strict";
  var form = document.getElementById("chat-form");
  if (!form || !window.fetch || !window.TextDecoder || !window.ReadableStream) return;
  var list = document.getElementById("chat-messages");
  var input = document.getElementById("chat-input");
  var conversation = document.getElementById("chat-conversation");
  var send = document.getElementById("chat-send");
  var d = form.dataset;

  function bubble(role) {
    var li = document.createElement("li");
    li.className = "chat-msg chat-" + role;
    var who = document.createElement("span");
    who.className = "chat-who";
    who.textContent = role === "user" ? d.you : d.assistant;
    var text = document.createElement("div");
    text.className = "chat-text";
    li.appendChild(who);
    li.appendChild(text);
    list.appendChild(li);
    return li;
  }

  function flag(li, message) {
    var p = document.createElement("p");
    p.className = "flag chat-flag";
    p.setAttribute("role", "status");
    p.textContent = message;
    li.appendChild(p);
  }

  // The final answer: plain text, with each [#id] citation turned into a link to the movie.
  function renderAnswer(li, data) {
    var text = li.querySelector(".chat-text");
    var titles = {};
    (data.cited || []).forEach(function (m) { titles[m.id] = m.title + (m.year ? " (" + m.year + ")" : ""); });
    text.textContent = "";
    var pattern = /\[\s*#\s*(\d+)\s*\]/g;
    var last = 0, match;
    while ((match = pattern.exec(data.answer)) !== null) {
      text.appendChild(document.createTextNode(data.answer.slice(last, match.index)));
      var id = match[1];
      if (titles[id]) {
        var a = document.createElement("a");
        a.className = "chat-cite";
        a.href = "/movies/" + id;
        a.dataset.movieId = id;
        a.title = titles[id];
        a.setAttribute("aria-label", titles[id]);
        a.textContent = "↗";
        text.appendChild(a);
      }
      last = pattern.lastIndex;
    }
    text.appendChild(document.createTextNode(data.answer.slice(last)));
    var flags = data.flags || [];
    var phrased = flags.some(function (f) { return f.indexOf("phrase_") === 0; });
    if (flags.indexOf("fallback") >= 0) flag(li, phrased ? d.flagTemplate : d.flagFallback);
    var removed = ["unknown_title", "unknown_person", "unknown_citation"];
    if (removed.some(function (f) { return flags.indexOf(f) >= 0; })) flag(li, d.flagRemoved);
    if (flags.indexOf("timeout") >= 0 || flags.indexOf("truncated") >= 0) flag(li, d.flagCut);
    li.id = "m" + data.message_id;
  }

  // A new conversation joins the side list at once (it used to appear only after a reload).
  function listConversation(id, title) {
    var side = document.getElementById("chat-list");
    if (!side) return;
    var href = "/chat?c=" + id;
    var item = null;
    Array.prototype.forEach.call(side.querySelectorAll("li"), function (li) {
      li.removeAttribute("aria-current");
      var a = li.querySelector("a");
      if (a && a.getAttribute("href") === href) item = li;
    });
    if (!item) {
      item = document.createElement("li");
      var a = document.createElement("a");
      a.href = href;
      a.textContent = title.length > 60 ? title.slice(0, 57) + "..." : title;
      item.appendChild(a);
    }
    item.setAttribute("aria-current", "true");
    side.insertBefore(item, side.firstChild);
    side.hidden = false;
    var none = document.getElementById("chat-none");
    if (none) none.remove();
  }

  function handle(li, name, data) {
    var text = li.querySelector(".chat-text");
    if (name === "meta") {
      if (data.conversation_id) listConversation(data.conversation_id, data.title || "…");
      if (data.conversation_id && conversation.value !== String(data.conversation_id)) {
        conversation.value = data.conversation_id;
        if (window.history && history.replaceState) history.replaceState(null, "", "/chat?c=" + data.conversation_id);
      }
    } else if (name === "token") {
      li.classList.remove("chat-pending");
      text.textContent += data.text;
    } else if (name === "done") {
      li.classList.remove("chat-pending");
      renderAnswer(li, data);
    } else if (name === "error") {
      li.classList.remove("chat-pending");
      flag(li, data.detail || d.error);
    }
  }

  form.addEventListener("submit", function (event) {
    var message = input.value.trim();
    if (!message) return;
    event.preventDefault();
    var mine = bubble("user");
    mine.querySelector(".chat-text").textContent = message;
    var answer = bubble("assistant");
    answer.classList.add("chat-pending");
    answer.querySelector(".chat-text").dataset.thinking = d.thinking;
    input.value = "";
    send.disabled = true;
    var intro = document.getElementById("chat-intro");
    if (intro) intro.remove();
    var body = { message: message, conversation_id: conversation.value ? Number(conversation.value) : null };
    fetch(d.streamUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
        "X-CSRF-Token": (document.querySelector('meta[name="csrf-token"]') || {}).content || ""
      },
      body: JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok || !response.body) {
        return response.json().then(function (err) { throw new Error(err.detail || d.error); },
                                    function () { throw new Error(d.error); });
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true });
          var frames = buffer.split("\n\n");
          buffer = frames.pop();
          frames.forEach(function (frame) {
            var name = "message", data = "";
            frame.split("\n").forEach(function (line) {
              if (line.indexOf("event:") === 0) name = line.slice(6).trim();
              else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
            });
            if (data) handle(answer, name, JSON.parse(data));
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (err) {
      answer.classList.remove("chat-pending");
      flag(answer, err.message || d.error);
      input.value = message;
    }).then(function () {
      send.disabled = false;
      input.focus();
    });
  });
})();
