// The tracking page's small map: her address and the courier on his way.
const box = document.getElementById('track-map');
if (box && window.L) {
  const home = [Number(box.dataset.homeLat), Number(box.dataset.homeLon)];
  const courier = [Number(box.dataset.courierLat), Number(box.dataset.courierLon)];
  const map = window.L.map(box, { zoomSnap: 0.25, scrollWheelZoom: false });
  window.L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: '&copy; OpenStreetMap contributors' }).addTo(map);
  window.L.marker(home, { icon: window.L.divIcon({ className: 'depot-pin home-pin', iconSize: [18, 18] }), keyboard: false }).addTo(map);
  window.L.circleMarker(courier, { radius: 8, className: 'courier-dot' }).addTo(map);
  map.fitBounds([home, courier], { padding: [30, 30], maxZoom: 16 });
}
