/* Storyline live pages: poll /api/version and swap in the server-rendered fragment when something arrived.
   No framework, no build step, nothing loaded from elsewhere. */
(function () {
  "use strict";
  var EVERY_MS = 3000;

  function poll(url, current, onChange) {
    var token = current;
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (v) {
          if (!v) return;
          var next = v.token + (v.story ? ":" + v.story.articles + ":" + v.story.events : "");
          if (token === null) { token = next; return; }
          if (next !== token) { token = next; return onChange(); }
        })
        .catch(function () { /* server restarting: try again on the next tick */ })
        .then(function () { window.setTimeout(tick, EVERY_MS); });
    }
    tick();
  }

  function swap(target, url, selector) {
    return fetch(url, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        if (selector) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector(selector);
          if (fresh) target.innerHTML = fresh.innerHTML;
        } else {
          target.innerHTML = html;
        }
        target.setAttribute("data-updated", String(Date.now()));
      });
  }

  function announce(text) {
    /* the swapped-in page is not read out whole: one polite sentence in the status region says what changed */
    var status = document.getElementById("live-status");
    if (status) status.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (live && live.dataset.liveStory) {
      var id = encodeURIComponent(live.dataset.liveStory);
      poll("/api/version?story=" + id, null, function () {
        return swap(live, "/stories/" + id + "?fragment=true", null).then(function () {
          var count = document.getElementById("article-count");
          announce("Story updated: " + (count ? count.textContent + " articles" : "new articles") + ".");
        });
      });
    }
    var front = document.getElementById("front");
    if (front) {
      poll("/api/version", null, function () {
        return swap(front, window.location.pathname + window.location.search, "#front").then(function () {
          announce("New articles arrived: the lists are updated.");
        });
      });
    }
  });
})();
