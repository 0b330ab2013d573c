// "Crawl now" progress: poll the job's JSON until it is done or failed (no inline JS: CSP).
(function () {
  var box = document.getElementById("crawl-job");
  if (!box) return;
  var url = box.getAttribute("data-job-url");
  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function show(job) {
    field("label").textContent = job.label;
    field("stored_so_far").textContent = job.stored_so_far;
    field("message").textContent = job.message || "";
    var report = job.report;
    if (report) {
      field("counts").hidden = false;
      box.querySelectorAll("[data-count]").forEach(function (td) {
        td.textContent = report[td.getAttribute("data-count")];
      });
      var list = field("errors");
      list.textContent = "";
      (report.errors || []).slice(0, 10).forEach(function (e) {
        var li = document.createElement("li");
        li.textContent = (e.url ? e.url + " " : "") + e.reason;
        list.appendChild(li);
      });
    }
    box.setAttribute("data-state", job.state);
    if (job.state === "running") setTimeout(poll, 1000);
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(show)
      .catch(function () { field("label").textContent = "无法获取进度，请刷新页面"; });
  }
  poll();
})();
