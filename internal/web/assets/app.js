// Rectify console: the only script of every page besides htmx. No inline
// script anywhere (the Content-Security-Policy forbids it).
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  // htmx requests carry the session's CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });
  // A form sent once is not sent twice by a double tap.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.getAttribute("method") !== "post") { return; }
    if (f.dataset.sent) { e.preventDefault(); return; }
    f.dataset.sent = "1";
    var submitter = e.submitter;
    if (submitter && submitter.name) {
      // The pressed button's value must still be sent once the buttons are disabled.
      var h = document.createElement("input");
      h.type = "hidden"; h.name = submitter.name; h.value = submitter.value;
      f.appendChild(h);
    }
    setTimeout(function () {
      f.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
})();
