// The results on a map. With no tile address set (the default), or with no network, the map
// is points on a plain background with a scale: never a blank or broken panel.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import "leaflet.markercluster";
import "leaflet.markercluster/dist/MarkerCluster.css";
import "leaflet.markercluster/dist/MarkerCluster.Default.css";
import type { SearchResponse } from "./api";
import { el } from "./dom";

let map: L.Map | null = null;

export function renderMap(
  container: HTMLElement,
  answer: SearchResponse,
  tileUrl: string | null,
  open: (id: string) => void,
): void {
  if (map) {
    map.remove();
    map = null;
  }
  const note = el("p", { class: "map-note", role: "note" });
  const canvas = el("div", { class: "map-canvas", role: "region", "aria-label": "Map of results" });
  container.append(canvas, note);
  // Clustering needs the map's deepest zoom, which otherwise only a tile layer would give:
  // without it no result pin is drawn on the plain background.
  map = L.map(canvas, { attributionControl: false, zoomControl: true, maxZoom: 19 });
  L.control.scale({ imperial: false }).addTo(map);
  if (tileUrl) {
    const layer = L.tileLayer(tileUrl, { maxZoom: 19 });
    let failed = false;
    layer.on("tileerror", () => {
      if (!failed) {
        failed = true;
        note.textContent = "Map tiles could not be loaded (no network?). Points are shown on a plain background.";
      }
    });
    layer.addTo(map);
  } else {
    note.textContent = "Points on a plain background (no map tiles are set; add a tile address in Updates & settings).";
  }
  const { origin, results } = answer;
  const here = L.marker([origin.latitude, origin.longitude], {
    icon: L.divIcon({ className: "pin pin-here", iconSize: [18, 18] }),
    title: `Searching from ${origin.label}`,
    keyboard: false,
  });
  here.addTo(map);
  const cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  for (const r of results) {
    const m = L.marker([r.latitude, r.longitude], {
      icon: L.divIcon({ className: "pin", iconSize: [16, 16] }),
      title: `${r.name}, ${r.distance_text}`,
      alt: r.name,
    });
    m.on("click", () => open(r.service_id));
    cluster.addLayer(m);
  }
  map.addLayer(cluster);
  const bounds = L.latLngBounds([[origin.latitude, origin.longitude]]);
  for (const r of results) bounds.extend([r.latitude, r.longitude]);
  if (results.length === 0) {
    map.setView([origin.latitude, origin.longitude], 12);
  } else {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  }
  // The container may have just become visible: let Leaflet measure it.
  requestAnimationFrame(() => map?.invalidateSize());
}
