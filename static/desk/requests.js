// The request page: move the focus to the summary of a refused form, and warn before sending a
// file over the size limit (the proxy in front of Relais would refuse a very large one with a
// bare page). The server checks both again; the page works without this script.
(function () {
  "use strict";
  function check(form) {
    var input = form.querySelector("input[type=file][data-max-bytes]");
    if (!input || !input.files || !input.files.length) { return true; }
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var holder = form.closest("[data-too-large]");
    var messageId = input.id + "_trop_gros";
    var existing = document.getElementById(messageId);
    if (existing) { existing.remove(); }
    if (input.files[0].size <= max) {
      input.removeAttribute("aria-invalid");
      return true;
    }
    var message = document.createElement("p");
    message.id = messageId;
    message.className = "champ-erreur";
    message.setAttribute("role", "alert");
    message.textContent = holder ? holder.getAttribute("data-too-large") : "";
    input.parentNode.insertBefore(message, input);
    input.setAttribute("aria-invalid", "true");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(messageId) < 0) { described.push(messageId); }
    input.setAttribute("aria-describedby", described.join(" "));
    input.focus();
    return false;
  }
  // After a refused form, the summary of what to correct is where the keyboard starts.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("erreurs");
    if (summary) { summary.focus(); }
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-too-large] form") && !check(event.target)) {
      event.preventDefault();
    }
  });
}());
