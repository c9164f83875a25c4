// Starts Redoc on the API documentation's page (templates/drf_spectacular/redoc.html), from a
// file: the Content-Security-Policy runs no inline script. Redoc injects its styles in <style>
// elements; it gives them the nonce it is handed, which is this script's own.
"use strict";
(function () {
  // Redoc's menu shows Redocly's logo from their CDN, whatever its options, and hides it when it
  // fails to load. Relais's pages request nothing from a third party (the policy would refuse
  // it, and report it): the image gets no address, so it fails at once and is hidden.
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, String(value).startsWith("https://cdn.redoc.ly/") ? "" : value);
    },
  });

  const nonce = document.currentScript.nonce;
  const container = document.getElementById("redoc-container");
  const settings = container.dataset.settings ? JSON.parse(container.dataset.settings) : {};
  window.Redoc.init(container.dataset.schemaUrl, { ...settings, nonce }, container);
})();
