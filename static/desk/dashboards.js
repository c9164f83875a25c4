// The monthly report's "Imprimer" button: shown only when this script runs (without it, the
// page says to use the browser's own print command).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-imprimer]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
