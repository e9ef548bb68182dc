// The map's offline base layer: the land of Britain and Ireland from Natural Earth's 1:10m
// land polygons (public domain; world-atlas's TopoJSON, ISC), clipped to the British Isles so
// the app carries a few hundred kilobytes, not the world. Run by `npm run build` and `check`.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { feature } from "topojson-client";
import { bboxClip } from "@turf/bbox-clip";

const require = createRequire(import.meta.url);
const topology = JSON.parse(readFileSync(require.resolve("world-atlas/land-10m.json"), "utf8"));
const land = feature(topology, topology.objects.land);
// West, south, east, north: the British Isles with a margin (and the near coast of France).
const box = [-11.5, 49.0, 2.6, 61.2];
const features = [];
for (const f of land.features) {
  const clipped = bboxClip(f, box);
  const coords = clipped.geometry.coordinates.filter((poly) => poly.length && poly[0].length >= 4);
  if (coords.length) features.push({ type: "Feature", properties: {}, geometry: { type: "MultiPolygon", coordinates: coords } });
}
// Five decimals (about a metre) is far finer than the 1:10m source.
const round = (v) => (Array.isArray(v) ? v.map(round) : Math.round(v * 1e5) / 1e5);
for (const f of features) f.geometry.coordinates = round(f.geometry.coordinates);
mkdirSync(new URL("../src/generated/", import.meta.url), { recursive: true });
const out = new URL("../src/generated/uk-land.json", import.meta.url);
writeFileSync(out, JSON.stringify({ type: "FeatureCollection", features }));
console.log(`uk-land.json: ${features.length} feature(s), ${readFileSync(out).length} bytes`);
