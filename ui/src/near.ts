// "Near me": where, the filters, and the results as a list or a map.
import { api, message, type PlaceQuestion, type ResultRow, type SearchRequest, type SearchResponse } from "./api";
import { append, clear, el, id } from "./dom";
import { renderMap } from "./map";
import { state } from "./state";

const RADII = [1, 2, 5, 10, 25, 50];

function checkbox(name: keyof SearchRequest, label: string, hint?: string): HTMLElement {
  const input = el("input", { type: "checkbox", id: `f-${name}`, name });
  input.checked = Boolean(state.search[name]);
  input.addEventListener("change", () => {
    (state.search as unknown as Record<string, unknown>)[name] = input.checked;
    void runSearch();
  });
  return el("div", { class: "check" }, input, el("label", { for: input.id }, label, hint ? el("span", { class: "hint" }, ` ${hint}`) : null));
}

function select(
  name: "domain" | "language" | "attendance",
  label: string,
  anyLabel: string,
  options: { code: string; label: string }[],
): HTMLElement {
  const s = el("select", { id: `f-${name}`, name });
  append(s, el("option", { value: "" }, anyLabel));
  for (const o of options) append(s, el("option", { value: o.code }, o.label));
  s.value = state.search[name] ?? "";
  s.addEventListener("change", () => {
    state.search[name] = s.value;
    void runSearch();
  });
  return el("div", { class: "field" }, el("label", { for: s.id }, label), s);
}

/** Interests as ticks, so a connector can ask for "walking or reading": any ticked matches. */
function interestsField(options: { code: string; label: string }[]): HTMLElement {
  // A search kept from before several could be chosen carries its one interest.
  if (state.search.interest) {
    state.search.interests = [...new Set([...(state.search.interests ?? []), state.search.interest])];
    state.search.interest = "";
  }
  const chosen = new Set(state.search.interests ?? []);
  const boxes = options.map((o) => {
    const input = el("input", { type: "checkbox", id: `f-interest-${o.code}`, value: o.code });
    input.checked = chosen.has(o.code);
    input.addEventListener("change", () => {
      if (input.checked) chosen.add(o.code);
      else chosen.delete(o.code);
      state.search.interests = options.map((x) => x.code).filter((code) => chosen.has(code));
      void runSearch();
    });
    return el("div", { class: "check" }, input, el("label", { for: input.id }, o.label));
  });
  return el("fieldset", { class: "field interests", id: "f-interests" },
    el("legend", {}, "Interests ", el("span", { class: "hint" }, "(any of these)")), ...boxes);
}

function whenField(): HTMLElement {
  const s = el("select", { id: "f-when", name: "when" });
  append(
    s,
    el("option", { value: "any" }, "Any time"),
    el("option", { value: "open-now" }, "Open now"),
    el("option", { value: "this-week" }, "This week, on days and times…"),
    el("option", { value: "at" }, "Open on a day and time…"),
  );
  s.value = state.search.when.kind;
  // This week: which days, which parts of the day (none ticked means any).
  const chosenDays = new Set(state.search.when.kind === "this-week" ? state.search.when.days : []);
  const chosenParts = new Set(state.search.when.kind === "this-week" ? state.search.when.parts : []);
  const applyWeek = () => {
    state.search.when = { kind: "this-week", days: DAYS.map(([code]) => code).filter((c) => chosenDays.has(c)), parts: PARTS.map(([code]) => code).filter((c) => chosenParts.has(c)) };
    void runSearch();
  };
  const tick = (prefix: string, code: string, label: string, chosen: Set<string>) => {
    const input = el("input", { type: "checkbox", id: `f-${prefix}-${code}`, value: code });
    input.checked = chosen.has(code);
    input.addEventListener("change", () => {
      if (input.checked) chosen.add(code);
      else chosen.delete(code);
      applyWeek();
    });
    return el("div", { class: "check" }, input, el("label", { for: input.id }, label));
  };
  const weekWrap = el("div", { class: "when-week" },
    el("fieldset", { class: "field interests", id: "f-days" }, el("legend", {}, "Days ", el("span", { class: "hint" }, "(any ticked)")),
      ...DAYS.map(([code, label]) => tick("day", code, label, chosenDays))),
    el("fieldset", { class: "field interests", id: "f-parts" }, el("legend", {}, "Part of the day"),
      ...PARTS.map(([code, label]) => tick("part", code, label, chosenParts))));
  weekWrap.hidden = s.value !== "this-week";
  // A day and a time, in UK form ("Tue 2 Dec 2026", "10:30"), from today to four weeks on.
  const atDay = el("select", { id: "f-when-day", name: "when-day" });
  const atTime = el("select", { id: "f-when-time", name: "when-time" });
  const today = new Date();
  for (let i = 0; i < 28; i++) {
    const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() + i);
    append(atDay, el("option", { value: isoDay(d) }, ukDay(d)));
  }
  for (let m = 0; m < 24 * 60; m += 15) {
    const hhmm = `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
    append(atTime, el("option", { value: hhmm }, hhmm));
  }
  const soon = Math.ceil((today.getHours() * 60 + today.getMinutes()) / 15) * 15 % (24 * 60);
  atTime.value = `${String(Math.floor(soon / 60)).padStart(2, "0")}:${String(soon % 60).padStart(2, "0")}`;
  if (state.search.when.kind === "at") {
    const [day, time] = state.search.when.local.split("T");
    if ([...atDay.options].some((o) => o.value === day)) atDay.value = day;
    if (time && [...atTime.options].some((o) => o.value === time.slice(0, 5))) atTime.value = time.slice(0, 5);
  }
  const atWrap = el("div", { class: "field when-at" },
    el("div", { class: "field" }, el("label", { for: atDay.id }, "Day"), atDay),
    el("div", { class: "field" }, el("label", { for: atTime.id }, "Time"), atTime));
  atWrap.hidden = s.value !== "at";
  const apply = () => {
    atWrap.hidden = s.value !== "at";
    weekWrap.hidden = s.value !== "this-week";
    if (s.value === "this-week") {
      applyWeek();
      return;
    }
    if (s.value === "at") {
      state.search.when = { kind: "at", local: `${atDay.value}T${atTime.value}` };
    } else {
      state.search.when = s.value === "open-now" ? { kind: "open-now" } : { kind: "any" };
    }
    void runSearch();
  };
  s.addEventListener("change", apply);
  atDay.addEventListener("change", apply);
  atTime.addEventListener("change", apply);
  return el("div", { class: "field-group" }, el("div", { class: "field" }, el("label", { for: s.id }, "When"), s), weekWrap, atWrap);
}

/** A day as the app's commands take it: 2026-12-02. */
function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A day as people in the UK write it: Tue 2 Dec 2026 (never the engine's locale order). */
function ukDay(d: Date): string {
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

const DAYS: [string, string][] = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"], ["sun", "Sun"]];
const PARTS: [string, string][] = [["morning", "Morning"], ["afternoon", "Afternoon"], ["evening", "Evening"]];

function radiusField(): HTMLElement {
  const s = el("select", { id: "f-radius", name: "radius" });
  for (const r of RADII) append(s, el("option", { value: String(r) }, `${r} km`));
  s.value = String(state.search.radius_km ?? 10);
  s.addEventListener("change", () => {
    state.search.radius_km = Number(s.value);
    void runSearch();
  });
  return el("div", { class: "field" }, el("label", { for: s.id }, "Within"), s);
}

function textField(): HTMLElement {
  const input = el("input", { type: "search", id: "f-text", name: "text", autocomplete: "off" });
  input.value = state.search.text ?? "";
  let timer: number | undefined;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      state.search.text = input.value;
      void runSearch();
    }, 250);
  });
  return el("div", { class: "field" }, el("label", { for: input.id }, "Words to look for"), input);
}

function badge(text: string, kind: string): HTMLElement {
  return el("span", { class: `badge badge-${kind}` }, text);
}

function costText(free: boolean | null): string {
  return free === true ? "Free" : free === false ? "Costs money" : "Cost not stated";
}

function resultItem(r: ResultRow): HTMLElement {
  const link = el("a", { href: `#/listing/${encodeURIComponent(r.service_id)}`, class: "result-name" }, r.name);
  // Coming back, the list opens where the person left it: on the listing they opened.
  link.addEventListener("click", () => {
    lastOpened = r.service_id;
    state.selected = r.service_id;
  });
  const saveId = id("save");
  return el(
    "li",
    { class: state.selected === r.service_id ? "result selected" : "result", "data-service-id": r.service_id },
    el("h3", {}, link),
    r.organization ? el("p", { class: "org" }, r.organization) : null,
    el(
      "p",
      { class: "meta" },
      el("span", { class: "distance" }, r.distance_text),
      " · ",
      el("span", { class: `opening ${r.open ? "is-open" : ""}` }, r.opening_text),
      " · ",
      el("span", { class: "cost" }, costText(r.free)),
    ),
    el(
      "p",
      { class: "badges" },
      r.no_referral ? badge("No referral needed", "noref") : null,
      r.online ? badge("Online", "online") : null,
      r.may_be_out_of_date ? badge("May be out of date", "stale") : null,
      ...r.not_stated.map((what) => badge(notStatedWords(what), "stale")),
    ),
    el("button", {
      type: "button", class: "link-button save", id: saveId,
      "aria-label": `Save ${r.name}`,
      onclick: async (e: Event) => {
        const b = e.currentTarget as HTMLButtonElement;
        try {
          await api.setSaved(r.service_id, r.name, true);
          b.textContent = "Saved";
          b.disabled = true;
          await refreshSavedCount();
        } catch (err) {
          b.textContent = `Could not save: ${message(err)}`;
        }
      },
    }, "Save"),
  );
}

let resultsBox: HTMLElement | null = null;
/** The listing last opened from the results, to return focus to it. */
let lastOpened: string | null = null;
let statusLine: HTMLElement | null = null;
let searchSerial = 0;

/** Run the current search and repaint the results. Records how long the repaint took. A new
 * search starts at the nearest 50 again; `more` keeps the longer list "Show more" asked for. */
export async function runSearch(more = false): Promise<void> {
  if (!resultsBox || !statusLine) return;
  if (!more) state.search.limit = 50;
  if (!state.search.wheelchair && !state.search.free && !state.search.no_referral) state.search.include_unstated = false;
  const started = performance.now();
  const serial = ++searchSerial;
  const hasWhere = Boolean(state.search.place?.trim()) || state.search.latitude != null;
  if (!hasWhere) {
    // An answer or error for a place no longer in the box no longer applies.
    state.answer = null;
    state.question = null;
    state.error = null;
    clear(resultsBox);
    statusLine.textContent = "Enter a postcode or town, or use your location, to see what is near.";
    return;
  }
  statusLine.textContent = "Searching…";
  try {
    const answer = await api.search(state.search);
    if (serial !== searchSerial) return; // a newer search has started
    if (answer.kind === "choose-place") {
      state.answer = null;
      state.question = answer;
    } else {
      state.answer = answer;
      state.question = null;
    }
    state.error = null;
  } catch (e) {
    if (serial !== searchSerial) return;
    state.answer = null;
    state.question = null;
    state.error = message(e);
  }
  paintResults();
  requestAnimationFrame(() => {
    document.body.dataset.repaintMs = (performance.now() - started).toFixed(1);
    document.body.dataset.searches = String(serial);
  });
}

/** What the directory covers, in a sentence, with where to change it. */
function coverage(id: string): HTMLElement {
  const sources = state.info?.sources.filter((src) => src.listings > 0) ?? [];
  const words = sources.length
    ? `Signpost covers ${sources.map((src) => `${src.name} (${src.listings.toLocaleString("en-GB")})`).join(", ")}. `
    : "Signpost has no listings yet. ";
  return el("p", { class: "hint coverage", id }, words,
    el("a", { href: "#/settings" }, sources.length ? "Add a region or a feed" : "Add a region"), ".");
}

function paintResults(): void {
  if (!resultsBox || !statusLine) return;
  clear(resultsBox);
  if (state.error) {
    statusLine.textContent = "";
    append(resultsBox, el("p", { class: "error", role: "alert", id: "search-error" }, state.error));
    return;
  }
  if (state.question) {
    statusLine.textContent = "";
    resultsBox.append(placeQuestion(state.question));
    return;
  }
  const answer = state.answer;
  if (!answer) return;
  const n = answer.results.length;
  const within = `within ${answer.radius_km} km of ${answer.origin.label}`;
  statusLine.textContent =
    n === 0
      ? filtersInUse(state.search)
        ? `Nothing ${within} matches these filters. Try fewer filters.`
        : `Signpost has no listings ${within} yet. Try a town nearby or a wider distance.`
      : answer.total > n
        ? `Nearest ${n} of ${answer.total} places ${within}.`
        : `${n} ${n === 1 ? "place" : "places"} ${within}, nearest first.`;
  if (n === 0 && !filtersInUse(state.search)) {
    // Nothing near: look further, or add what covers this place.
    const widest = RADII[RADII.length - 1];
    if (answer.radius_km < widest) {
      const widen = el("button", { type: "button", id: "widen", class: "secondary" }, `Look within ${widest} km`);
      widen.addEventListener("click", () => {
        state.search.radius_km = widest;
        const radius = document.querySelector<HTMLSelectElement>("#f-radius");
        if (radius) radius.value = String(widest);
        void runSearch();
      });
      resultsBox.append(el("p", {}, widen));
    }
    resultsBox.append(coverage("nothing-near-help"));
  }
  if (answer.unstated > 0) {
    // Many listings do not say whether they are step-free, free or need a referral: the person
    // decides whether to see them.
    const also = el("button", { type: "button", id: "include-unstated", class: "secondary" },
      `Also show ${answer.unstated} that do not say`);
    also.addEventListener("click", () => {
      state.search.include_unstated = true;
      void runSearch();
    });
    const one = answer.unstated === 1;
    resultsBox.append(el("p", { class: "unstated", id: "unstated-note" },
      `${answer.unstated} more ${one ? "place does" : "places do"} not say ${sayList(answer.unstated_about.map((w) => unsaidPhrase(w, one)))}. `, also));
  }
  if (state.resultsView === "map") {
    const box = el("div", { class: "map-box" });
    resultsBox.append(box);
    const openListing = (sid: string) => {
      lastOpened = sid;
      location.hash = `#/listing/${encodeURIComponent(sid)}`;
    };
    let list: HTMLOListElement | null = null;
    const shown = renderMap(box, answer, state.info?.tile_url ?? null, openListing, (sid) => {
      state.selected = sid;
      if (list) markChosen(list, sid, false);
    });
    if (n > 0) {
      list = mapList(answer, openListing, (sid) => {
        state.selected = sid;
        shown.select(sid);
      });
      resultsBox.append(list);
      const chosen = answer.results.some((r) => r.service_id === state.selected) ? state.selected : null;
      if (chosen) {
        markChosen(list, chosen, false);
        shown.select(chosen);
      }
    }
  } else if (n > 0) {
    const list = el("ol", { class: "results", id: "results", "aria-label": "Results" });
    for (const r of answer.results) list.append(resultItem(r));
    resultsBox.append(list);
    if (answer.total > n) {
      const more = el("button", { type: "button", id: "show-more", class: "secondary" }, `Show ${Math.min(50, answer.total - n)} more`);
      more.addEventListener("click", async () => {
        state.search.limit = n + 50;
        await runSearch(true);
        // Keep the reader's place: focus the first of the new rows.
        const rows = document.querySelectorAll<HTMLAnchorElement>("#results .result a");
        rows[n]?.focus();
      });
      resultsBox.append(more);
    }
  }
}

/** "step-free access" → "Step-free access not stated", for a row's badge. */
function notStatedWords(what: string): string {
  if (what === "whether a referral is needed") return "Referral not stated";
  return `${what.charAt(0).toUpperCase()}${what.slice(1)} not stated`;
}

/** What a place leaves unsaid, as the end of "… does not say …". */
function unsaidPhrase(what: string, one: boolean): string {
  if (what === "step-free access") return `whether ${one ? "it has" : "they have"} step-free access`;
  if (what === "cost") return `whether ${one ? "it is" : "they are"} free`;
  return what;
}

/** "a", "a or b", "a, b or c". */
function sayList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** Mark the chosen result in the map's list (and give it the list's one tab stop). */
function markChosen(list: HTMLElement, serviceId: string, focus: boolean): void {
  for (const b of list.querySelectorAll<HTMLButtonElement>("button[data-service-id]")) {
    const mine = b.dataset.serviceId === serviceId;
    b.setAttribute("aria-pressed", String(mine));
    b.tabIndex = mine ? 0 : -1;
    if (mine) {
      if (focus) b.focus();
      else b.scrollIntoView({ block: "nearest" });
    }
  }
}

/**
 * The results beside the map, for the keyboard: one tab stop; the arrow keys, Home and End
 * move through the results, and each one reached is shown on the map; Enter opens it.
 */
function mapList(answer: SearchResponse, open: (sid: string) => void, select: (sid: string) => void): HTMLOListElement {
  const list = el("ol", { class: "map-list", id: "map-list", "aria-label": "Results on the map: arrow keys move through them, Enter opens one" });
  const buttons: HTMLButtonElement[] = [];
  answer.results.forEach((r, i) => {
    const b = el("button", { type: "button", class: "map-item", "data-service-id": r.service_id, "aria-pressed": "false", tabindex: i === 0 ? 0 : -1 },
      el("strong", {}, r.name), ` ${r.distance_text}`);
    b.addEventListener("click", () => {
      if (b.getAttribute("aria-pressed") === "true") open(r.service_id);
      else {
        markChosen(list, r.service_id, true);
        select(r.service_id);
      }
    });
    b.addEventListener("keydown", (e: KeyboardEvent) => {
      const to = e.key === "ArrowDown" || e.key === "ArrowRight" ? i + 1
        : e.key === "ArrowUp" || e.key === "ArrowLeft" ? i - 1
          : e.key === "Home" ? 0 : e.key === "End" ? buttons.length - 1 : null;
      if (to === null) {
        if (e.key === "Enter") {
          e.preventDefault();
          open(r.service_id);
        }
        return;
      }
      e.preventDefault();
      const next = buttons[Math.max(0, Math.min(buttons.length - 1, to))];
      const sid = next.dataset.serviceId!;
      markChosen(list, sid, true);
      select(sid);
    });
    buttons.push(b);
    list.append(el("li", {}, b));
  });
  return list;
}

/** Search from exactly this place, as if it had been typed. */
function choosePlace(place: string): void {
  state.search.place = place;
  state.search.latitude = null;
  state.search.longitude = null;
  const input = document.getElementById("place") as HTMLInputElement | null;
  if (input) input.value = place;
  void runSearch();
}

/** "Which Newcastle?": the places a name could be, each a button that searches from it. */
function placeQuestion(q: PlaceQuestion): HTMLElement {
  const list = el("ul", { class: "place-choices", id: "place-choices", "aria-labelledby": "place-question" });
  for (const c of q.choices) {
    list.append(el("li", {}, el("button", { type: "button", class: "secondary place-choice", "data-place": c.place, onclick: () => choosePlace(c.place) }, c.label)));
  }
  return el(
    "div",
    { class: "place-question" },
    el("p", { id: "place-question", role: "alert" }, q.question),
    list,
    q.note ? el("p", { class: "hint", id: "place-note" }, q.note) : null,
  );
}

/** Whether any filter narrows the search (so an empty answer can be blamed on them). */
function filtersInUse(s: typeof state.search): boolean {
  return s.no_referral || s.free || s.wheelchair || Boolean(s.domain) || Boolean(s.interest) || Boolean(s.interests?.length) ||
    Boolean(s.language) || Boolean(s.attendance) || Boolean(s.text?.trim()) || s.when.kind !== "any";
}

export async function refreshSavedCount(): Promise<void> {
  const count = document.getElementById("saved-count");
  if (!count) return;
  try {
    const n = (await api.savedList()).length;
    count.textContent = n ? `(${n})` : "";
  } catch {
    count.textContent = "";
  }
}

/** On a narrow screen the filters fold away under one button, so results come first. */
function filtersBox(filters: HTMLElement): HTMLElement {
  const box = el("details", { class: "filters-box", id: "filters-box" }, el("summary", {}, "Filters"), filters);
  const wide = window.matchMedia("(min-width: 48rem)");
  box.open = wide.matches || filtersOpened;
  // Widening the window must never leave the filters folded behind a hidden summary.
  // and narrowing it folds them so the results come first.
  wide.addEventListener("change", () => {
    box.open = wide.matches;
  });
  box.addEventListener("toggle", () => {
    filtersOpened = box.open;
  });
  return box;
}

let filtersOpened = false;

export function renderNear(main: HTMLElement): void {
  const place = el("input", {
    type: "text", id: "place", name: "place", autocomplete: "postal-code",
    placeholder: "e.g. NR20 4AB or Dereham", "aria-describedby": "place-hint",
  });
  place.value = state.search.place ?? "";
  const form = el(
    "form",
    {
      class: "where", role: "search", "aria-label": "Where",
      onsubmit: (e: Event) => {
        e.preventDefault();
        state.search.place = place.value;
        state.search.latitude = null;
        state.search.longitude = null;
        void runSearch();
      },
    },
    el("label", { for: "place" }, "Postcode or town"),
    el("div", { class: "where-row" }, place, el("button", { type: "submit", id: "search-button" }, "Search")),
    el("p", { id: "place-hint", class: "hint" }, "Works offline. Your location is never sent anywhere."),
  );
  const locate = el("button", {
    type: "button", class: "secondary", id: "use-location",
    onclick: () => {
      if (!("geolocation" in navigator)) {
        statusLine!.textContent = "This device cannot share its location here. Enter a postcode instead.";
        return;
      }
      statusLine!.textContent = "Asking your device where you are…";
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          state.search.place = "";
          place.value = "";
          state.search.latitude = pos.coords.latitude;
          state.search.longitude = pos.coords.longitude;
          void runSearch();
        },
        (error) => {
          // Each reason asks for something different of the person, so each is said plainly.
          statusLine!.textContent =
            error.code === error.PERMISSION_DENIED
              ? "Your device did not share a location. Enter a postcode or town instead."
              : error.code === error.TIMEOUT
                ? "Finding your location took too long. Enter a postcode or town instead."
                : "Your device could not tell where you are (it may have no location service). Enter a postcode or town instead.";
        },
        { timeout: 10000, maximumAge: 600000 },
      );
    },
  }, "Use my location");
  form.append(locate);

  const c = state.choices;
  const filters = el(
    "fieldset",
    { class: "filters", id: "filters" },
    el("legend", {}, "Filters"),
    el(
      "div",
      { class: "checks" },
      checkbox("no_referral", "No referral needed", "(drop in or contact them yourself)"),
      checkbox("free", "Free"),
      checkbox("wheelchair", "Wheelchair access"),
    ),
    el(
      "div",
      { class: "selects" },
      whenField(),
      select("domain", "Kind of support", "Any", c?.domains ?? []),
      interestsField(c?.interests ?? []),
      select("language", "Language", "Any", c?.languages ?? []),
      select("attendance", "Online or in person", "Either", c?.attendance ?? []),
      radiusField(),
      textField(),
    ),
  );
  const toggle = (view: "list" | "map", label: string) =>
    el("button", {
      type: "button", class: "toggle", id: `show-${view}`, "aria-pressed": String(state.resultsView === view),
      onclick: () => {
        state.resultsView = view;
        for (const b of document.querySelectorAll<HTMLButtonElement>(".view-toggle button")) {
          b.setAttribute("aria-pressed", String(b.id === `show-${view}`));
        }
        paintResults();
      },
    }, label);
  statusLine = el("p", { class: "status", id: "results-status", role: "status", "aria-live": "polite" });
  resultsBox = el("div", { class: "results-box", id: "results-box" });
  main.append(
    el("h2", { class: "visually-hidden" }, "What is near"),
    el("div", { class: "near-layout" },
      el("section", { class: "controls", "aria-label": "Search and filters" }, form, coverage("coverage"), filtersBox(filters)),
      el("section", { class: "answer", "aria-label": "Results" },
        el("div", { class: "view-toggle", role: "group", "aria-label": "Show results as" }, toggle("list", "List"), toggle("map", "Map")),
        statusLine, resultsBox),
    ),
  );
  if (state.answer || state.question || state.error) {
    paintResults();
    returnToLastOpened();
  } else void runSearch();
}

/** Focus (and so scroll to) the result that was opened, if it is still in the list. */
function returnToLastOpened(): void {
  if (!lastOpened) return;
  const row = [...document.querySelectorAll<HTMLElement>("#results .result")].find((r) => r.dataset.serviceId === lastOpened);
  row?.querySelector<HTMLAnchorElement>("a.result-name")?.focus();
}
