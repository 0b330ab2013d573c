/* The alert queue refreshes itself: it polls the JSON API with the page's own filters and
   rebuilds the rows with textContent only (crawled titles never become markup). */
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table) { return; }
  var canAct = table.getAttribute("data-can-act") === "1";
  var body = table.querySelector("tbody");
  var known = {};
  Array.prototype.forEach.call(body.querySelectorAll("tr[data-id]"), function (tr) {
    known[tr.getAttribute("data-id")] = true;
  });

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    if (text !== null) { td.textContent = text; }
    tr.appendChild(td);
    return td;
  }

  function row(c, checked) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-id", String(c.id));
    tr.className = "sev-" + c.severity_color + (c.overdue ? " overdue" : "");
    if (!known[c.id]) { tr.className += " fresh"; }
    if (c.unread) { tr.className += " unread"; }  // an unread inbox notice about it
    if (canAct) {
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "ids"; box.value = String(c.id);
      box.setAttribute("form", "bulk"); box.checked = !!checked[c.id];
      cell(tr, null).appendChild(box);
    }
    var badge = document.createElement("span");
    badge.className = "badge " + c.severity_color; badge.textContent = c.severity_label;
    cell(tr, null).appendChild(badge);
    var link = document.createElement("a");
    link.href = "/cases/" + encodeURIComponent(c.id); link.textContent = c.title;
    var titleCell = cell(tr, null, "title");
    titleCell.appendChild(link);
    [[c.urgent, "紧急"], [c.supervised, "督办"], [c.extension_pending, "待审批延期"]].forEach(function (t) {
      if (t[0]) {
        var tag = document.createElement("span");
        tag.className = "tag"; tag.textContent = t[1];
        titleCell.appendChild(document.createTextNode(" ")); titleCell.appendChild(tag);
      }
    });
    cell(tr, c.topic_name); cell(tr, c.place_name); cell(tr, c.state_label);
    cell(tr, c.lead_unit ? c.lead_unit.name : "—");
    var due = cell(tr, window.yq.remaining(c.next_due_at), "countdown");
    due.setAttribute("data-due", c.next_due_at || "");
    cell(tr, String(c.post_count));
    return tr;
  }

  function refresh() {
    // the same page as shown: its filters, its cursor, and the page's size
    var params = new URLSearchParams(window.location.search);
    if (!params.has("limit")) { params.set("limit", table.getAttribute("data-limit") || "50"); }
    fetch("/api/v1/cases?" + params.toString(), {credentials: "same-origin",
      headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        var checked = {};
        Array.prototype.forEach.call(body.querySelectorAll("input[name=ids]:checked"),
          function (b) { checked[b.value] = true; });
        var frag = document.createDocumentFragment();
        data.cases.forEach(function (c) { frag.appendChild(row(c, checked)); });
        if (!data.cases.length) {
          var tr = document.createElement("tr"); tr.className = "empty";
          var td = cell(tr, "暂无工单"); td.colSpan = 9; frag.appendChild(tr);
        }
        body.replaceChildren(frag);
        data.cases.forEach(function (c) { known[c.id] = true; });
        document.getElementById("total").textContent = "共 " + data.total + " 件";
        document.getElementById("refreshed").textContent =
          "更新于 " + new Date().toLocaleTimeString("zh-CN");
        window.yq.tick();
      })
      .catch(function () {
        document.getElementById("refreshed").textContent = "刷新失败，稍后重试";
      });
  }
  window.setInterval(refresh, 5000);
})();
