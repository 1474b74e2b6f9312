// Live progress of running sends: poll /admin/sends/<id>/progress.json for each [data-progress] element.
(function () {
  function poll(el) {
    fetch(el.dataset.progress, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        var bar = el.querySelector("progress");
        if (bar) { bar.max = Math.max(p.total, 1); bar.value = p.done; }
        var label = el.querySelector(".status");
        if (label) { label.textContent = p.status + " — " + p.done + " of " + p.total; }
        if (p.status === "scheduled" || p.status === "sending") { setTimeout(function () { poll(el); }, 1000); }
      })
      .catch(function () { setTimeout(function () { poll(el); }, 3000); });
  }
  document.querySelectorAll("[data-progress]").forEach(poll);
})();
