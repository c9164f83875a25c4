/* Relais — the citizen portal: after a refused form, the summary of what to correct is where
   the keyboard (and a screen reader) starts. Everything else works without this script. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("erreurs");
    if (summary) { summary.focus(); }
  });
}());
