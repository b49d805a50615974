// Throughgate progressive enhancement. Every page works without this file.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  onReady(function () {
    // Move focus to the error summary so keyboard and screen-reader users hear it first.
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }

    // Contact form: the "why not?" question only matters when they did not attend.
    var reason = document.getElementById("id_non_attendance_reason-group");
    var radios = document.querySelectorAll("input[name='attendance']");
    if (reason && radios.length) {
      var sync = function () {
        var chosen = document.querySelector("input[name='attendance']:checked");
        var show = chosen && chosen.value === "did_not_attend";
        reason.hidden = !show && !reason.classList.contains("field--error");
      };
      radios.forEach(function (r) { r.addEventListener("change", sync); });
      sync();
    }

    // Ask before removing anything.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
