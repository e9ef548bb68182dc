// The results on a map. With no tile address set (the default), or with no network, the map
// is drawn from data the app carries: the land of Britain and Ireland (Natural Earth) on a sea
// colour, and town and city names (OS Open Names) for where the map is, with the result pins
// and a scale on top: never a blank or broken panel.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import "leaflet.markercluster";
import "leaflet.markercluster/dist/MarkerCluster.css";
import "leaflet.markercluster/dist/MarkerCluster.Default.css";
import landOfTheIsles from "./generated/uk-land.json";
import { api, type SearchResponse } from "./api";
import { el } from "./dom";

let map: L.Map | null = null;

/**
 * A map in `container` that works with no tiles and no network: the land Signpost carries, town
 * and city names for where the map is, a scale, and tiles on top when an address is set. Shared
 * by the results map and the Coverage view's map.
 */
export function baseMap(container: HTMLElement, tileUrl: string | null, label: string, extraNote = ""): L.Map {
  const note = el("p", { class: "map-note", role: "note" });
  const canvas = el("div", { class: "map-canvas", role: "region", "aria-label": label });
  container.append(canvas, note);
  // Clustering needs the map's deepest zoom, which otherwise only a tile layer would give:
  // without it no result pin is drawn on the plain background.
  const m = L.map(canvas, { attributionControl: false, zoomControl: true, maxZoom: 19 });
  let gone = false;
  m.on("unload", () => { gone = true; });
  L.control.scale({ imperial: false }).addTo(m);
  // The land, under everything: tiles cover it when they load.
  L.geoJSON(landOfTheIsles as Parameters<typeof L.geoJSON>[0], {
    interactive: false,
    style: { stroke: true, color: "#9aa89a", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 },
  }).addTo(m);
  const labels = L.layerGroup().addTo(m);
  let tilesShown = false;
  const nameThePlaces = async () => {
    if (gone || tilesShown) return;
    const b = m.getBounds();
    const found = await api.mapLabels(b.getSouth(), b.getWest(), b.getNorth(), b.getEast(), 40).catch(() => []);
    if (gone) return;
    labels.clearLayers();
    // Largest first; a name that would overlap one already placed, or run off the edge, is left
    // out, up to a dozen names.
    const size = m.getSize();
    const placed: L.Point[] = [];
    const shown = found.filter((p) => {
      if (placed.length >= 12) return false;
      const at = m.latLngToContainerPoint([p.latitude, p.longitude]);
      const halfWidth = p.name.length * 4.5 + 8;
      if (at.x < halfWidth || at.x > size.x - halfWidth || at.y < 12 || at.y > size.y - 12) return false;
      if (placed.some((q) => Math.abs(q.x - at.x) < halfWidth + 50 && Math.abs(q.y - at.y) < 22)) return false;
      placed.push(at);
      return true;
    });
    for (const p of shown) {
      L.marker([p.latitude, p.longitude], {
        icon: L.divIcon({ className: `place-label place-${p.kind}`, html: "", iconSize: undefined }),
        interactive: false,
        keyboard: false,
      })
        .bindTooltip(p.name, { permanent: true, direction: "center", className: `place-name place-${p.kind}`, interactive: false })
        .addTo(labels);
    }
    canvas.dataset.placeLabels = String(shown.length);
  };
  m.on("moveend", () => void nameThePlaces());
  if (tileUrl) {
    const layer = L.tileLayer(tileUrl, { maxZoom: 19 });
    let failed = false;
    layer.on("tileload", () => {
      tilesShown = true;
      labels.clearLayers();
    });
    layer.on("tileerror", () => {
      if (!failed) {
        failed = true;
        note.textContent = "Map tiles could not be loaded (no network?). The map shows the land and town names Signpost carries.";
      }
    });
    layer.addTo(m);
  } else {
    note.textContent = `A simple map Signpost carries, for use offline: land, towns and ${extraNote || "the results"}. Detailed map tiles can be added in Updates & settings.`;
  }
  return m;
}

/** What the near-me screen can ask of the map it drew: show one result as chosen. */
export interface ResultsMap {
  select(serviceId: string | null): void;
}

export function renderMap(
  container: HTMLElement,
  answer: SearchResponse,
  tileUrl: string | null,
  open: (id: string) => void,
  chosen: (id: string) => void,
): ResultsMap {
  if (map) {
    map.remove();
    map = null;
  }
  map = baseMap(container, tileUrl, "Map of results");
  const { origin, results } = answer;
  const here = L.marker([origin.latitude, origin.longitude], {
    icon: L.divIcon({ className: "pin pin-here", iconSize: [18, 18] }),
    title: `Searching from ${origin.label}`,
    keyboard: false,
  });
  here.addTo(map);
  const cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  const markers = new Map<string, L.Marker>();
  for (const r of results) {
    const m = L.marker([r.latitude, r.longitude], {
      icon: L.divIcon({ className: "pin", iconSize: [16, 16] }),
      title: `${r.name}, ${r.distance_text}`,
      alt: r.name,
    });
    // The popup is built from elements: a listing's name is text, never HTML.
    const openIt = el("button", { type: "button", class: "link-button popup-open" }, "Open");
    openIt.addEventListener("click", () => open(r.service_id));
    m.bindPopup(el("div", { class: "popup" }, el("strong", {}, r.name), el("br"), `${r.distance_text} `, openIt));
    // A pin chosen on the map is the one chosen in the list.
    m.on("click", () => chosen(r.service_id));
    if (!markers.has(r.service_id)) markers.set(r.service_id, m);
    cluster.addLayer(m);
  }
  map.addLayer(cluster);
  let current: L.Marker | null = null;
  const select = (serviceId: string | null) => {
    current?.getElement()?.classList.remove("pin-selected");
    current = serviceId ? markers.get(serviceId) ?? null : null;
    if (!current) return;
    const marker = current;
    // Out of its cluster (zooming in as far as that needs), then marked and named.
    cluster.zoomToShowLayer(marker, () => {
      marker.getElement()?.classList.add("pin-selected");
      marker.openPopup();
    });
  };
  const bounds = L.latLngBounds([[origin.latitude, origin.longitude]]);
  for (const r of results) bounds.extend([r.latitude, r.longitude]);
  if (results.length === 0) {
    map.setView([origin.latitude, origin.longitude], 12);
  } else {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  }
  // The container may have just become visible: let Leaflet measure it.
  requestAnimationFrame(() => map?.invalidateSize());
  return { select };
}
