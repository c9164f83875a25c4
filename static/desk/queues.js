// Relais — the queues: a "check all" box for the bulk actions. The page works without it
// (each row has its own checkbox).
(function () {
  "use strict";
  function enhance(root) {
    var table = root.querySelector("#file-tableau");
    if (!table || table.querySelector(".file-tout")) { return; }
    var cell = table.querySelector("thead th");
    var boxes = table.querySelectorAll("tbody input[type=checkbox][name=requests]");
    var all = document.createElement("input");
    all.type = "checkbox";
    all.className = "file-tout";
    all.id = "cocher-tout";
    all.setAttribute("aria-label", cell.dataset.tout);
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    cell.appendChild(all);
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function () { enhance(document); });
})();
