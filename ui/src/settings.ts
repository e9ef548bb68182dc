// Updates and settings: the regional feed, syncing with progress, the map tiles, and the
// problem reports waiting to be sent.
import { api, message, type RegionsView, type SourceCount, type SyncFinished, type SyncProgress } from "./api";
import { append, clear, el } from "./dom";
import { state } from "./state";

let progressBar: HTMLProgressElement | null = null;
let progressText: HTMLElement | null = null;
let syncStatus: HTMLElement | null = null;
let syncButton: HTMLButtonElement | null = null;
let summary: HTMLElement | null = null;
/** Paints "Your directory" again: after an update, each feed's count and last update change. */
let repaintDirectory: ((v: RegionsView) => void) | null = null;

function summaryText(): string {
  const info = state.info;
  if (!info) return "";
  return `${info.listings.toLocaleString("en-GB")} listings, kept on this device: everything works offline.`;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

function lastSyncText(): string {
  const raw = state.info?.last_sync;
  if (!raw) return "Never updated from a feed: using the directory that came with the app.";
  try {
    const s = JSON.parse(raw) as SyncFinished;
    return `Last update ${when(s.at)}: ${s.message}`;
  } catch {
    return "";
  }
}

export function onSyncProgress(p: SyncProgress): void {
  // Counted for the end-to-end tests, which cannot always catch a fast bar on screen.
  document.body.dataset.syncProgressEvents = String(Number(document.body.dataset.syncProgressEvents ?? 0) + 1);
  if (!progressBar || !progressText) return;
  progressBar.hidden = false;
  const total = p.records_total || p.changesets_total || 1;
  const done = p.records_total ? p.records_done : p.changesets_done;
  progressBar.max = total;
  progressBar.value = done;
  progressText.textContent = `Updating: ${done.toLocaleString("en-GB")} of ${total.toLocaleString("en-GB")} changes`;
}

export function onSyncFinished(f: SyncFinished): void {
  // Counted for the end-to-end tests: each finished update, whatever it said.
  document.body.dataset.syncsFinished = String(Number(document.body.dataset.syncsFinished ?? 0) + 1);
  if (state.info) {
    state.info.last_sync = JSON.stringify(f);
    state.info.syncing = false;
    if (f.listings != null) state.info.listings = f.listings;
  }
  if (progressBar) progressBar.hidden = true;
  if (progressText) progressText.textContent = "";
  if (syncButton) syncButton.disabled = false;
  if (summary) summary.textContent = summaryText();
  const repaint = repaintDirectory;
  if (repaint) void api.regions().then(repaint, () => undefined);
  if (syncStatus) {
    syncStatus.textContent = lastSyncText();
    syncStatus.className = f.ok ? "status" : "status error";
  }
}

function settingForm(
  key: "feed_url" | "tile_url",
  label: string,
  hint: string,
  current: string | null,
): HTMLElement {
  const input = el("input", { type: "url", id: `setting-${key}`, name: key, "aria-describedby": `setting-${key}-hint` });
  input.value = current ?? "";
  const status = el("p", { role: "status", "aria-live": "polite", id: `setting-${key}-status` });
  return el(
    "form",
    {
      class: "setting",
      // Our own check names the problem in plain words; the engine's bubble does not.
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const stored = await api.setSetting(key, input.value);
          if (state.info) state.info[key] = stored;
          input.value = stored ?? "";
          status.textContent = stored ? "Saved." : "Cleared.";
          status.className = "";
          // The feeds listed under "Your directory" show which one is the regional feed.
          const repaint = repaintDirectory;
          if (key === "feed_url" && repaint) void api.regions().then(repaint, () => undefined);
        } catch (err) {
          status.textContent = message(err);
          status.className = "error";
        }
      },
    },
    el("label", { for: input.id }, label),
    el("p", { class: "hint", id: `setting-${key}-hint` }, hint),
    el("div", { class: "where-row" }, input, el("button", { type: "submit", id: `setting-${key}-save` }, "Save")),
    status,
  );
}

const count = (n: number) => `${n.toLocaleString("en-GB")} ${n === 1 ? "listing" : "listings"}`;

const kindWords: Record<SourceCount["kind"], string> = {
  region: "",
  feed: "Regional feed: ",
  imported: "Imported file: ",
};

/** After a region is added or removed: what every screen shows is read again. */
async function directoryChanged(view: RegionsView): Promise<void> {
  state.info = await api.appInfo();
  state.choices = await api.filterChoices();
  state.answer = null; // the next visit to Near me searches the changed directory
  if (state.info) state.info.sources = view.sources;
  if (summary) summary.textContent = summaryText();
}

/**
 * "Your directory": each region or file with its count (a region can be removed, after a
 * second press), the feeds followed (with counts and last update; any but the configured one
 * can be stopped, after a second press), another feed to follow, the bundled regions not
 * loaded (to add), and a listings file to add.
 */
function regionsSection(view: RegionsView): HTMLElement {
  const status = el("p", { id: "regions-status", role: "status", "aria-live": "polite" });
  const box = el("div", { id: "regions" });
  const busy = (words: string) => {
    status.textContent = words;
    status.className = "";
    for (const b of box.querySelectorAll<HTMLButtonElement | HTMLInputElement>("button, input")) b.disabled = true;
  };
  const run = async (words: string, change: () => Promise<RegionsView>, done: (v: RegionsView) => string) => {
    busy(words);
    try {
      const next = await change();
      await directoryChanged(next);
      paint(next);
      status.textContent = done(next);
    } catch (e) {
      paint(view);
      status.textContent = message(e);
      status.className = "error";
    }
  };
  const paint = (v: RegionsView) => {
    view = v;
    clear(box);
    // Feeds are listed apart, with their last update.
    const held = v.sources.filter((src) => src.kind !== "feed");
    const sources = held.length
      ? el("ul", { class: "plain sources", id: "sources" }, ...held.map((src) => {
          const remove = el("button", { type: "button", class: "link-button", "aria-label": `Remove ${src.name}` }, "Remove");
          const row = el("li", { "data-source": src.name },
            el("strong", {}, `${kindWords[src.kind]}${src.name}`), `: ${count(src.listings)}`,
            src.kind === "region" ? " " : null,
            src.kind === "region" ? remove : null,
            src.description ? el("p", { class: "hint" }, src.description) : null,
            src.attribution.length ? el("p", { class: "hint attribution" }, src.attribution.join(" ")) : null);
          remove.addEventListener("click", () => {
            // A second, plain question before thousands of listings go.
            const yes = el("button", { type: "button", class: "secondary", "data-confirm": src.name }, `Yes, remove ${count(src.listings)}`);
            const no = el("button", { type: "button", class: "link-button" }, "Keep it");
            const ask = el("p", { class: "confirm" }, `Remove ${src.name} from this device? `, yes, " ", no);
            remove.replaceWith(ask);
            yes.focus();
            no.addEventListener("click", () => paint(view));
            yes.addEventListener("click", () =>
              void run(`Removing ${src.name}…`, () => api.regionRemove(src.name), () => `Removed ${src.name}.`));
          });
          return row;
        }))
      : v.feeds.length
        ? null
        : el("p", { id: "sources-empty" }, "Your directory is empty: add a region below, or set a regional feed.");
    const feeds = v.feeds.length
      ? el("ul", { class: "plain sources", id: "feeds" }, ...v.feeds.map((f) => {
          const stop = el("button", { type: "button", class: "link-button", "aria-label": `Stop following ${f.feed}` }, "Stop following");
          const row = el("li", { "data-feed": f.feed },
            el("strong", {}, f.configured ? `Regional feed: ${f.feed}` : `Feed: ${f.feed}`),
            `: ${count(f.listings)}`,
            f.shadowed ? ` (and ${count(f.shadowed)} shown from another feed)` : "",
            f.updated ? `, updated ${f.updated}` : ", not updated yet: press Update now",
            f.configured ? null : " ",
            f.configured ? null : stop);
          stop.addEventListener("click", () => {
            const yes = el("button", { type: "button", class: "secondary", "data-confirm": f.feed }, "Yes, stop following");
            const no = el("button", { type: "button", class: "link-button" }, "Keep it");
            const ask = el("p", { class: "confirm" },
              `Stop following ${f.feed}? Its ${count(f.listings)} leave this device, unless another feed publishes them. `,
              yes, " ", no);
            stop.replaceWith(ask);
            yes.focus();
            no.addEventListener("click", () => paint(view));
            yes.addEventListener("click", () =>
              void run(`Stopping ${f.feed}…`, () => api.feedUnfollow(f.feed), () => `Stopped following ${f.feed}.`));
          });
          return row;
        }))
      : null;
    const feedInput = el("input", { type: "url", id: "feed-add", name: "feed", "aria-describedby": "feed-add-hint" }) as HTMLInputElement;
    const follow = el("form", {
      class: "setting",
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        const address = feedInput.value;
        void run(`Adding ${address}…`, () => api.feedFollow(address),
          () => `Following ${address.trim()}: press Update now to fetch its listings.`);
      },
    },
      el("label", { for: feedInput.id }, "Follow another feed"),
      el("p", { class: "hint", id: "feed-add-hint" }, "For a neighbouring area, e.g. https://feed.example.org. A listing two feeds publish is shown once: the one checked more recently."),
      el("div", { class: "where-row" }, feedInput, el("button", { type: "submit", id: "feed-add-save" }, "Follow")));
    const available = v.available.length
      ? el("ul", { class: "plain", id: "regions-available" }, ...v.available.map((r) =>
          el("li", { "data-region": r.id },
            el("strong", {}, r.name), " ",
            el("button", {
              type: "button", class: "secondary", "aria-label": `Add ${r.name}`,
              onclick: () => void run(`Adding ${r.name}… this takes a few seconds.`, () => api.regionAdd(r.id), (n) => {
                const added = n.sources.find((x) => x.name === r.name);
                return `Added ${r.name}: ${count(added?.listings ?? 0)}.`;
              }),
            }, "Add"),
            el("p", { class: "hint" }, r.description))))
      : null;
    const file = el("input", { type: "file", id: "region-file", accept: ".json,.gz,.csv,application/json", "aria-describedby": "region-file-hint" }) as HTMLInputElement;
    file.addEventListener("change", () => {
      const chosen = file.files?.[0];
      if (!chosen) return;
      void run(`Adding ${chosen.name}…`, () => api.regionAddFile(chosen), (n) => {
        const stem = chosen.name.split(".")[0];
        const added = n.sources.find((x) => x.name === stem);
        return `Added ${chosen.name}: ${count(added?.listings ?? 0)}.`;
      });
    });
    append(box,
      sources,
      feeds ? el("h4", {}, "Feeds you follow") : null,
      feeds,
      follow,
      available ? el("h4", {}, "Regions that come with Signpost") : null,
      available,
      el("label", { for: file.id }, "Add listings from a file"),
      el("p", { class: "hint", id: "region-file-hint" }, "An HSDS or Open Referral UK file (JSON, or JSON in gzip). Every listing is checked; a bad one is named and left out."),
      file,
    );
  };
  paint(view);
  repaintDirectory = (v) => {
    status.textContent = ""; // "press Update now" is done with
    status.className = "";
    paint(v);
  };
  return el("div", {}, box, status);
}

export async function renderSettings(main: HTMLElement): Promise<void> {
  state.info = await api.appInfo();
  const info = state.info;
  progressBar = el("progress", { id: "sync-progress", max: 1, value: 0, "aria-label": "Update progress" });
  progressBar.hidden = !info.syncing;
  progressText = el("p", { id: "sync-progress-text", role: "status", "aria-live": "polite" });
  syncStatus = el("p", { id: "sync-status", class: "status" }, lastSyncText());
  syncButton = el("button", {
    type: "button", id: "sync-now",
    onclick: async () => {
      try {
        syncButton!.disabled = true;
        progressBar!.hidden = false;
        progressBar!.removeAttribute("value"); // indeterminate until the first progress event
        progressText!.textContent = "Contacting the feed…";
        await api.syncNow();
      } catch (e) {
        syncButton!.disabled = false;
        progressBar!.hidden = true;
        progressText!.textContent = "";
        syncStatus!.textContent = message(e);
        syncStatus!.className = "status error";
      }
    },
  }, "Update now");
  syncButton.disabled = info.syncing;

  summary = el("p", { id: "directory-summary" }, summaryText());
  const reports = await api.reports();
  const statusWords: Record<string, [string, string]> = {
    queued: ["Waiting to send", "badge-stale"],
    in_review: ["Sent: being checked", "badge-noref"],
    approved: ["Accepted", "badge-noref"],
    rejected: ["Not accepted", "badge-stale"],
    invalid: ["Refused", "badge-stale"],
  };
  const reportList = reports.length
    ? el("ul", { class: "plain", id: "report-queue" }, ...reports.map((r) => {
        const [words, badge] = statusWords[r.status] ?? statusWords.queued;
        return el("li", { "data-report": String(r.id) },
          el("strong", {}, r.service_name), ` — ${r.kind === "closed" ? "has closed" : "details are wrong"}`,
          r.comment ? `: “${r.comment}”` : "",
          el("span", { class: `badge ${badge}` }, words),
          r.reason ? el("span", { class: "hint" }, ` ${r.reason}`) : null,
          r.status === "queued" && !r.sent_at
            ? el("button", {
              type: "button", class: "link-button", "aria-label": `Remove the report about ${r.service_name}`,
              onclick: async (e: Event) => {
                const row = (e.currentTarget as HTMLElement).closest("li");
                if (await api.removeReport(r.id)) row?.remove();
              },
            }, " Remove")
            : null);
      }))
    : el("p", { id: "report-queue-empty" }, "No problem reports.");

  main.append(
    el("h2", {}, "Updates & settings"),
    el("section", { "aria-labelledby": "dir-h" },
      el("h3", { id: "dir-h" }, "Your directory"),
      summary,
      regionsSection(await api.regions()),
    ),
    el("section", { "aria-labelledby": "sync-h" },
      el("h3", { id: "sync-h" }, "Updates"),
      settingForm("feed_url", "Regional feed address", "Where updates come from, e.g. https://feed.example.org. Ask your council or link worker.", info.feed_url),
      el("div", { class: "actions" }, syncButton),
      progressBar, progressText, syncStatus,
    ),
    el("section", { "aria-labelledby": "map-h" },
      el("h3", { id: "map-h" }, "Map"),
      settingForm("tile_url", "Map tile address", "Optional, with {z}, {x} and {y}. Without it, or without a network, the map shows points on a plain background.", info.tile_url),
    ),
    el("section", { "aria-labelledby": "reports-h" },
      el("h3", { id: "reports-h" }, "Problem reports"),
      el("p", { class: "hint" }, "Reports stay on this device until your region's feed accepts them, then its moderators check them. “Update now” sends them."),
      reportList,
    ),
    el("p", { class: "hint" }, `Signpost ${info.version}`),
  );
}
