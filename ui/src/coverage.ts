// "Coverage": where assets are lacking around a place. For every postcode sector within a
// distance, how far the nearest listing needing no referral is in each kind of support (CMHF
// domain), as a table (gaps first), a map layer and a CSV file. Every text is a text node.
import L from "leaflet";
import { coverageApi, message, type CoverageRequest, type CoverageView, type PlaceQuestion } from "./api";
import { append, clear, el } from "./dom";
import { baseMap } from "./map";
import { state } from "./state";

const RADII = [2, 5, 10, 25, 50];
const GAPS = [1, 2, 5, 10];

/** What the screen remembers between visits. */
const form: CoverageRequest & { domain: number } = { place: "", radius_km: 10, gap_km: 5, domain: 0 };
let view: CoverageView | null = null;
let question: PlaceQuestion | null = null;
let failure: string | null = null;
let map: L.Map | null = null;
let serial = 0;

/** Distance bands, nearest first: the map's colours (the same as `.swatch-*` in styles.css) and
 * the legend's words. */
function bands(gap: number): { key: string; label: string; colour: string }[] {
  return [
    { key: "near", label: `Within ${Math.min(1, gap)} km`, colour: "#1a6fb0" },
    { key: "within", label: `Within ${gap} km`, colour: "#7fbce6" },
    { key: "beyond", label: `Farther than ${gap} km`, colour: "#f0a030" },
    { key: "none", label: "None listed", colour: "#b3161b" },
  ];
}

function band(km: number | null, gap: number): number {
  if (km === null) return 3;
  if (km <= Math.min(1, gap)) return 0;
  return km <= gap ? 1 : 2;
}

function kmText(km: number | null): string {
  return km === null ? "none" : `${km < 10 ? km.toFixed(1) : km.toFixed(0)} km`;
}

function chooser(id: string, label: string, values: number[], current: number, onChange: (v: number) => void): HTMLElement {
  const s = el("select", { id, name: id });
  for (const v of values) append(s, el("option", { value: String(v) }, `${v} km`));
  s.value = String(current);
  s.addEventListener("change", () => onChange(Number(s.value)));
  return el("div", { class: "field" }, el("label", { for: id }, label), s);
}

export function renderCoverage(main: HTMLElement): void {
  if (!form.place && state.search.place) form.place = state.search.place;
  const place = el("input", {
    type: "text", id: "coverage-place", name: "coverage-place", autocomplete: "postal-code",
    placeholder: "e.g. NR20 4AB or Dereham", "aria-describedby": "coverage-hint",
  });
  place.value = form.place;
  const status = el("p", { class: "status", id: "coverage-status", role: "status", "aria-live": "polite" });
  const box = el("div", { class: "coverage-box", id: "coverage-box" });
  const run = async () => {
    form.place = place.value;
    await runCoverage(status, box);
  };
  const where = el(
    "form",
    { class: "where coverage-form", "aria-label": "Coverage area", onsubmit: (e: Event) => { e.preventDefault(); void run(); } },
    el("label", { for: "coverage-place" }, "Postcode or town"),
    el("div", { class: "where-row" }, place, el("button", { type: "submit", id: "coverage-run" }, "Show coverage")),
    chooser("coverage-radius", "Postcode sectors within", RADII, form.radius_km, (v) => { form.radius_km = v; if (view) void run(); }),
    chooser("coverage-gap", "A gap is nothing within", GAPS, form.gap_km, (v) => { form.gap_km = v; if (view) void run(); }),
  );
  main.append(
    el("h2", {}, "Where assets are lacking"),
    el("p", { id: "coverage-hint", class: "hint" },
      "For every postcode sector near a place: how far it is to the nearest listing needing no referral (drop in or contact them yourself), in each kind of support. ",
      "The number of postcodes in a sector stands in for how many people live there: Signpost has no population figures."),
    where, status, box,
  );
  paint(status, box);
}

async function runCoverage(status: HTMLElement, box: HTMLElement): Promise<void> {
  const mine = ++serial;
  if (!form.place.trim()) {
    view = null;
    question = null;
    failure = null;
    clear(box);
    status.textContent = "Enter a postcode or town to see coverage around it.";
    return;
  }
  status.textContent = "Measuring…";
  try {
    const answer = await coverageApi.coverage({ place: form.place, radius_km: form.radius_km, gap_km: form.gap_km });
    if (mine !== serial) return;
    if (answer.kind === "choose-place") {
      view = null;
      question = answer;
    } else {
      view = answer;
      question = null;
    }
    failure = null;
  } catch (e) {
    if (mine !== serial) return;
    view = null;
    question = null;
    failure = message(e);
  }
  paint(status, box);
  document.body.dataset.coverageRuns = String(mine);
}

function paint(status: HTMLElement, box: HTMLElement): void {
  if (map) {
    map.remove();
    map = null;
  }
  clear(box);
  if (failure) {
    status.textContent = "";
    box.append(el("p", { class: "error", role: "alert", id: "coverage-error" }, failure));
    return;
  }
  if (question) {
    status.textContent = "";
    const q = question;
    const list = el("ul", { class: "place-choices", id: "coverage-choices", "aria-labelledby": "coverage-question" });
    for (const c of q.choices) {
      list.append(el("li", {}, el("button", {
        type: "button", class: "secondary place-choice", "data-place": c.place,
        onclick: () => {
          form.place = c.place;
          const input = document.getElementById("coverage-place") as HTMLInputElement | null;
          if (input) input.value = c.place;
          void runCoverage(status, box);
        },
      }, c.label)));
    }
    box.append(el("div", { class: "place-question" }, el("p", { id: "coverage-question", role: "alert" }, q.question), list,
      q.note ? el("p", { class: "hint" }, q.note) : null));
    return;
  }
  const v = view;
  if (!v) {
    status.textContent = form.place ? "" : "Enter a postcode or town to see coverage around it.";
    return;
  }
  const n = v.rows.length;
  status.textContent = n === 0
    ? `No postcode sector has its centre within ${v.radius_km} km of ${v.origin.label}.`
    : `${n} postcode ${n === 1 ? "sector" : "sectors"} within ${v.radius_km} km of ${v.origin.label}: ` +
      `${v.gaps} ${v.gaps === 1 ? "has" : "have"} nothing needing no referral within ${v.gap_km} km in at least one kind of support.`;
  if (n === 0) return;
  if (form.domain >= v.domains.length) form.domain = 0;

  const saved = el("p", { class: "status", id: "coverage-saved", role: "status", "aria-live": "polite" });
  const save = el("button", {
    type: "button", class: "secondary", id: "coverage-save",
    onclick: async () => {
      saved.textContent = "Saving…";
      try {
        const path = await coverageApi.saveCsv({ place: form.place, radius_km: v.radius_km, gap_km: v.gap_km });
        saved.textContent = `Saved as a spreadsheet (CSV): ${path}`;
      } catch (e) {
        saved.textContent = `Could not save: ${message(e)}`;
      }
    },
  }, "Save as CSV");

  // The map: one circle per sector, coloured by the chosen domain's distance band.
  const domainSelect = el("select", { id: "coverage-domain", name: "coverage-domain" });
  v.domains.forEach((d, i) => append(domainSelect, el("option", { value: String(i) }, d.label)));
  domainSelect.value = String(form.domain);
  const legend = el("ul", { class: "coverage-legend", id: "coverage-legend", "aria-label": "Map colours" });
  for (const b of bands(v.gap_km)) {
    // A class, not a style attribute: the CSP admits no inline style.
    legend.append(el("li", {}, el("span", { class: `swatch swatch-${b.key}`, "aria-hidden": "true" }), b.label));
  }
  legend.append(el("li", { class: "hint" }, "Larger circles: sectors with more postcodes."));
  const mapBox = el("div", { class: "map-box coverage-map" });
  box.append(
    el("div", { class: "actions" }, save), saved,
    el("div", { class: "field coverage-domain" }, el("label", { for: "coverage-domain" }, "Colour the map by"), domainSelect),
    legend, mapBox,
  );
  map = baseMap(mapBox, state.info?.tile_url ?? null, "Map of postcode sectors by distance to the nearest listing", "the postcode sectors");
  const layer = L.layerGroup().addTo(map);
  const circles = new Map<string, L.CircleMarker>();
  const drawLayer = () => {
    layer.clearLayers();
    circles.clear();
    const colours = bands(v.gap_km);
    const d = form.domain;
    for (const r of v.rows) {
      const km = r.nearest_km[d];
      const b = colours[band(km, v.gap_km)];
      const tip = el("span", {}, `${r.sector}: ${v.domains[d].label}, nearest ${kmText(km)} (${r.postcodes} postcodes)`);
      const circle = L.circleMarker([r.latitude, r.longitude], {
        radius: 4 + Math.sqrt(r.postcodes) / 3,
        color: "#1b1b1b", weight: 1, fillColor: b.colour, fillOpacity: 0.8,
        className: `coverage-sector coverage-${b.key}`,
      }).bindTooltip(tip).addTo(layer);
      circles.set(r.sector, circle);
    }
    document.body.dataset.coverageSectorsDrawn = String(v.rows.length);
  };
  drawLayer();
  domainSelect.addEventListener("change", () => {
    form.domain = Number(domainSelect.value);
    drawLayer();
  });
  const bounds = L.latLngBounds(v.rows.map((r) => [r.latitude, r.longitude] as [number, number]));
  bounds.extend([v.origin.latitude, v.origin.longitude]);
  map.fitBounds(bounds, { padding: [16, 16], maxZoom: 14 });
  requestAnimationFrame(() => map?.invalidateSize());

  // The table: gaps first, each gap cell marked in words as well as colour.
  const table = el("table", { class: "coverage-table", id: "coverage-table" });
  table.append(el("caption", {}, `Distance to the nearest listing needing no referral, by kind of support. Gaps (nothing within ${v.gap_km} km) first.`));
  const head = el("tr", {}, el("th", { scope: "col" }, "Sector"), el("th", { scope: "col" }, "Postcodes"));
  for (const d of v.domains) head.append(el("th", { scope: "col" }, d.label));
  head.append(el("th", { scope: "col" }, `Nothing within ${v.gap_km} km`));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  const label = new Map(v.domains.map((d) => [d.code, d.label]));
  for (const r of v.rows) {
    const row = el("tr", { class: r.lacking.length ? "gap-row" : "", "data-sector": r.sector });
    const show = el("button", {
      type: "button", class: "link-button", "aria-label": `Show ${r.sector} on the map`,
      onclick: () => {
        map?.setView([r.latitude, r.longitude], Math.max(map.getZoom(), 13));
        circles.get(r.sector)?.openTooltip();
        mapBox.scrollIntoView({ block: "nearest" });
      },
    }, r.sector);
    row.append(el("th", { scope: "row" }, show), el("td", { class: "num" }, String(r.postcodes)));
    for (const km of r.nearest_km) {
      const gap = km === null || km > v.gap_km;
      row.append(el("td", { class: gap ? "num gap" : "num" }, kmText(km)));
    }
    row.append(el("td", {}, r.lacking.length ? r.lacking.map((c) => label.get(c) ?? c).join(", ") : "none"));
    body.append(row);
  }
  table.append(body);
  box.append(el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Coverage table" }, table));
}
