/* Relais — the map of the staff desk and the portal: set up from its element's data- attributes (tile URL,
   attribution, centre), a click places the request and fills the latitude and longitude fields,
   which also work on their own (the map is an aid; a typed address is always offered). */
(function () {
  "use strict";

  function setUp(element) {
    if (typeof L === "undefined") {
      return;
    }
    var data = element.dataset;
    var latitudeField = document.getElementById(data.latitudeField);
    var longitudeField = document.getElementById(data.longitudeField);
    var map = L.map(element).setView(
      [parseFloat(data.latitude), parseFloat(data.longitude)],
      parseInt(data.zoom, 10)
    );
    L.tileLayer(data.tiles, { attribution: data.attribution, maxZoom: 19 }).addTo(map);
    var marker = null;

    function place(latitude, longitude) {
      if (marker === null) {
        marker = L.marker([latitude, longitude], { alt: data.markerLabel, keyboard: false }).addTo(map);
      } else {
        marker.setLatLng([latitude, longitude]);
      }
    }

    function fromFields() {
      var latitude = parseFloat((latitudeField.value || "").replace(",", "."));
      var longitude = parseFloat((longitudeField.value || "").replace(",", "."));
      if (isFinite(latitude) && isFinite(longitude)) {
        place(latitude, longitude);
        map.setView([latitude, longitude], Math.max(map.getZoom(), 16));
      }
    }

    map.on("click", function (event) {
      var latitude = event.latlng.lat.toFixed(6);
      var longitude = event.latlng.lng.toFixed(6);
      latitudeField.value = latitude;
      longitudeField.value = longitude;
      place(latitude, longitude);
      // The portal asks for the open requests near the point (htmx listens for this).
      latitudeField.dispatchEvent(new CustomEvent("relais:place", { bubbles: true }));
    });
    latitudeField.addEventListener("change", fromFields);
    longitudeField.addEventListener("change", fromFields);
    fromFields();
  }

  function start() {
    document.querySelectorAll("[data-tiles]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
