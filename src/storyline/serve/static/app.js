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

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (live && live.dataset.liveStory) {
      var id = encodeURIComponent(live.dataset.liveStory);
      poll("/api/version?story=" + id, null, function () {
        return swap(live, "/stories/" + id + "?fragment=true", null);
      });
    }
    var front = document.getElementById("front");
    if (front) {
      poll("/api/version", null, function () {
        return swap(front, window.location.pathname + window.location.search, "#front");
      });
    }
  });
})();
