/* The header's unread count, kept fresh by polling /api/v1/inbox/unread; an optional beep
   (WebAudio, no file) for new I/II notices, off by default and toggled per browser. */
(function () {
  "use strict";
  var badge = document.getElementById("inbox-unread");
  if (!badge) { return; }
  var KEY = "yq.inbox.sound";
  var toggle = document.getElementById("sound-toggle");
  var latest = null;

  function soundOn() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  if (toggle) {
    toggle.checked = soundOn();
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem(KEY, toggle.checked ? "1" : "0"); } catch (e) { /* private mode */ }
      if (toggle.checked) { beep(); }  // a user gesture: lets the browser start audio
    });
  }

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.6);
    osc.connect(gain); gain.connect(ctx.destination);
    osc.start(); osc.stop(ctx.currentTime + 0.6);
    osc.onended = function () { ctx.close(); };
  }

  function show(n) {
    badge.textContent = String(n);
    badge.classList.toggle("zero", !n);
  }

  function poll() {
    var url = "/api/v1/inbox/unread" + (latest === null ? "" : "?after=" + latest);
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        show(data.unread);
        var urgent = (data["new"] || []).some(function (n) { return n.severity === 1 || n.severity === 2; });
        if (latest !== null && urgent && soundOn()) { beep(); }
        latest = Math.max(latest || 0, data.latest_id || 0);
      })
      .catch(function () { /* keep the last count; the next poll tries again */ });
  }
  poll();
  window.setInterval(poll, 15000);
})();
