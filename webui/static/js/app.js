/* Shared helpers: CSRF header for fetch, live countdowns on every [data-due] element, and the
   period fields of every desk. A page may carry the server's "now" in data-now: countdowns then
   run on the server's clock, so a phone whose clock is off still shows what the server judges
   as late. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var anchor = document.querySelector("[data-now]");
  var served = anchor ? new Date(anchor.getAttribute("data-now")).getTime() : NaN;
  var skew = isNaN(served) ? 0 : served - Date.now();
  function now() { return Date.now() + skew; }
  window.yq = {
    now: now,
    csrf: meta ? meta.getAttribute("content") : "",
    remaining: function (iso) {
      if (!iso) { return "—"; }
      var ms = new Date(iso).getTime() - now();
      var late = ms < 0;
      ms = Math.abs(ms);
      var m = Math.floor(ms / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
      var text = (d ? d + "天" : "") + (d || h ? h + "小时" : "") + (m % 60) + "分";
      return late ? "已超时 " + text : "剩余 " + text;
    },
    tick: function () {
      var items = document.querySelectorAll(".countdown[data-due]");
      for (var i = 0; i < items.length; i++) {
        var due = items[i].getAttribute("data-due");
        if (!due) { items[i].textContent = "—"; continue; }
        items[i].textContent = window.yq.remaining(due);
        items[i].classList.toggle("late", new Date(due).getTime() <= now());
      }
    }
  };
  window.yq.tick();
  window.setInterval(window.yq.tick, 1000);

  // Period fields (templates/_period.html): a preset replaces explicit dates, so picking one
  // clears them and submits; typing a date switches the preset to 自定义.
  var presets = document.querySelectorAll("select[data-period=preset]");
  Array.prototype.forEach.call(presets, function (preset) {
    var form = preset.form;
    preset.addEventListener("change", function () {
      if (!preset.value) { return; }
      form.elements.from.value = "";
      form.elements.to.value = "";
      form.submit();
    });
    ["from", "to"].forEach(function (name) {
      form.elements[name].addEventListener("change", function () { preset.value = ""; });
    });
  });
})();
