// Live preview: wait for the next version of the issue (long poll) and reload the page when it comes.
(function () {
  "use strict";
  var version = Number(document.body.getAttribute("data-version"));
  function poll() {
    fetch("/changes?since=" + version, { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.version !== version) { window.location.reload(); } else { poll(); }
      })
      .catch(function () { window.setTimeout(poll, 1000); });
  }
  poll();
})();
