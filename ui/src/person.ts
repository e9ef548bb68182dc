// One person on the caseload: what is recorded, suggestions with reasons, connections and
// their steps, follow-ups, contacts, ONS4 wellbeing, the plan and the letter to their GP.
// Form errors from the caseload name their field ("home_area: …") and are shown beside it.
import {
  caseloadApi, message,
  type ConnectionStatus, type ConnectionView, type ContactHow, type ListingState, type Ons4, type PersonDetails, type PersonView,
} from "./api";
import { day, todayIso } from "./caseload";
import { copyText, el, id as uid } from "./dom";
import { state } from "./state";

const STATUSES: ConnectionStatus[] = ["suggested", "introduced", "attending", "stopped", "declined"];
const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const PARTS = [["morning", "Morning"], ["afternoon", "Afternoon"], ["evening", "Evening"]];
const GENDERS = [["", "Not recorded"], ["1", "Male (including trans man)"], ["2", "Female (including trans woman)"], ["3", "Non-binary"], ["4", "Other (not listed)"], ["X", "Not known"], ["Z", "Not stated"]];
const ETHNICITIES = [["", "Not recorded"], ["A", "White - British"], ["B", "White - Irish"], ["C", "White - Any other White background"], ["D", "Mixed - White and Black Caribbean"], ["E", "Mixed - White and Black African"], ["F", "Mixed - White and Asian"], ["G", "Mixed - Any other mixed background"], ["H", "Asian or Asian British - Indian"], ["J", "Asian or Asian British - Pakistani"], ["K", "Asian or Asian British - Bangladeshi"], ["L", "Asian or Asian British - Any other Asian background"], ["M", "Black or Black British - Caribbean"], ["N", "Black or Black British - African"], ["P", "Black or Black British - Any other Black background"], ["R", "Other Ethnic Groups - Chinese"], ["S", "Other Ethnic Groups - Any other ethnic group"], ["Z", "Not stated"]];
/** ONS4 in the GSS harmonised wording; anxiety runs the other way. */
export const ONS4: [keyof Ons4, string][] = [
  ["life_satisfaction", "Overall, how satisfied are you with your life nowadays?"],
  ["worthwhile", "Overall, to what extent do you feel that the things you do in your life are worthwhile?"],
  ["happy", "Overall, how happy did you feel yesterday?"],
  ["anxious", "Overall, how anxious did you feel yesterday?"],
];

const empty = (): PersonDetails => ({
  name: "", contact_method: "", contact_times: "", home_area: "", goals: "", needs: "",
  interests: [], access_needs: [], languages: [], free_times: [], no_referral_only: false,
  travel_km: null, nhs_number: null, gender: null, ethnicity: null,
});

function select(idAttr: string, options: string[][], value: string): HTMLSelectElement {
  const s = el("select", { id: idAttr }, ...options.map(([v, label]) => el("option", { value: v }, label)));
  s.value = value;
  return s;
}

/** A labelled field with room for its error. */
function field(name: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  const errorId = `error-${name}`;
  const hintId = hint ? `hint-${name}` : null;
  control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return el("div", { class: "field", "data-field": name },
    el("label", { for: control.id }, label),
    hint ? el("p", { class: "hint", id: hintId ?? undefined }, hint) : null,
    control,
    el("p", { class: "error field-error", id: errorId }));
}

/** Put a "field: message" error beside its field, or in the form's alert. */
function showError(form: HTMLElement, alert: HTMLElement, e: unknown): void {
  for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
  form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  const text = message(e);
  const m = /^([a-z_]+): (.*)$/s.exec(text);
  const box = m ? form.querySelector<HTMLElement>(`[data-field="${m[1]}"]`) : null;
  if (m && box) {
    const err = box.querySelector<HTMLElement>(".field-error");
    if (err) err.textContent = m[2];
    const control = box.querySelector<HTMLElement>("input, select, textarea");
    control?.setAttribute("aria-invalid", "true");
    control?.focus();
    alert.textContent = "Please check the field marked.";
  } else {
    alert.textContent = text;
  }
}

function detailsForm(id: string | null, d: PersonDetails, saved: (id: string) => void): HTMLElement {
  const alert = el("p", { class: "error", role: "alert" });
  const name = el("input", { type: "text", id: "p-name", value: d.name, autocomplete: "off" });
  const method = select("p-contact-method", [["", "Not stated"], ["phone", "Phone"], ["text", "Text message"], ["email", "Email"], ["letter", "Letter"], ["visit", "Visit"]], d.contact_method);
  const times = el("input", { type: "text", id: "p-contact-times", value: d.contact_times });
  const area = el("input", { type: "text", id: "p-home-area", value: d.home_area, autocomplete: "off" });
  const goals = el("textarea", { id: "p-goals", rows: 2 });
  goals.value = d.goals;
  const needs = el("textarea", { id: "p-needs", rows: 2 });
  needs.value = d.needs;
  const interestBoxes = (state.choices?.interests ?? []).map((c) => {
    const box = el("input", { type: "checkbox", id: `p-interest-${c.code}`, value: `signpost:interest:${c.code}` });
    box.checked = d.interests.includes(`signpost:interest:${c.code}`);
    return el("span", { class: "check" }, box, el("label", { for: box.id }, c.label));
  });
  const wheelchair = el("input", { type: "checkbox", id: "p-wheelchair" });
  wheelchair.checked = d.access_needs.includes("signpost:accessibility:wheelchair");
  const languages = el("input", { type: "text", id: "p-languages", value: d.languages.join(", ") });
  const freeGrid = el("table", { class: "free-times", id: "p-free-times" },
    el("caption", { class: "visually-hidden" }, "When they are free"),
    el("thead", {}, el("tr", {}, el("td", {}), ...PARTS.map(([, label]) => el("th", { scope: "col" }, label)))),
    el("tbody", {}, ...DAYS.map(([code, dayName]) => el("tr", {}, el("th", { scope: "row" }, dayName),
      ...PARTS.map(([part, label]) => {
        const box = el("input", { type: "checkbox", id: `p-free-${code}-${part}`, value: `${code}-${part}`, "aria-label": `${dayName} ${label.toLowerCase()}` });
        box.checked = d.free_times.includes(`${code}-${part}`);
        return el("td", {}, box);
      })))));
  const noReferral = el("input", { type: "checkbox", id: "p-no-referral" });
  noReferral.checked = d.no_referral_only;
  const travel = el("input", { type: "number", id: "p-travel", min: 0.5, max: 50, step: 0.5, value: d.travel_km ?? 5 });
  const nhs = el("input", { type: "text", id: "p-nhs", value: d.nhs_number ?? "", inputmode: "numeric", autocomplete: "off" });
  const gender = select("p-gender", GENDERS, d.gender ?? "");
  const ethnicity = select("p-ethnicity", ETHNICITIES, d.ethnicity ?? "");
  const form: HTMLFormElement = el("form", {
    class: "person-form",
    id: "person-form",
    novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const details: PersonDetails = {
        name: name.value,
        contact_method: method.value,
        contact_times: times.value,
        home_area: area.value,
        goals: goals.value,
        needs: needs.value,
        interests: interestBoxes.map((s) => s.querySelector("input") as HTMLInputElement).filter((b) => b.checked).map((b) => b.value),
        access_needs: wheelchair.checked ? ["signpost:accessibility:wheelchair"] : [],
        languages: languages.value.split(/[\s,;]+/).filter(Boolean),
        free_times: [...freeGrid.querySelectorAll<HTMLInputElement>("input:checked")].map((b) => b.value),
        no_referral_only: noReferral.checked,
        travel_km: travel.value === "" ? null : Number(travel.value),
        nhs_number: nhs.value.trim() || null,
        gender: gender.value || null,
        ethnicity: ethnicity.value || null,
      };
      try {
        const p = await caseloadApi.savePerson(id, details);
        alert.textContent = "";
        saved(p.id);
      } catch (err) {
        showError(form, alert, err);
      }
    },
  },
    field("name", "Name or initials", name),
    field("home_area", "Home area", area, "A postcode district or sector, like BS3 or BS3 4: never a full postcode or address."),
    field("goals", "What matters to them, in their words", goals),
    field("needs", "Needs and concerns", needs),
    el("fieldset", { class: "filters", "data-field": "interests" }, el("legend", {}, "Interests"), ...interestBoxes, el("p", { class: "error field-error", id: "error-interests" })),
    el("fieldset", { class: "filters", "data-field": "access_needs" }, el("legend", {}, "Access needs"),
      el("span", { class: "check" }, wheelchair, el("label", { for: wheelchair.id }, "Step-free (wheelchair) access")),
      el("p", { class: "error field-error", id: "error-access_needs" })),
    field("languages", "Languages", languages, "ISO 639 codes, like en, cy, ur, pl."),
    el("fieldset", { class: "filters", "data-field": "free_times" }, el("legend", {}, "When they are free"), freeGrid, el("p", { class: "error field-error", id: "error-free_times" })),
    el("div", { class: "check" }, noReferral, el("label", { for: noReferral.id }, "Only suggest what needs no referral")),
    field("travel_km", "How far they can travel (km)", travel),
    field("contact_method", "Preferred contact", method),
    field("contact_times", "Best times to contact", times),
    el("details", {},
      el("summary", {}, "Optional: NHS number, gender, ethnicity"),
      field("nhs_number", "NHS number", nhs),
      field("gender", "Gender identity", gender),
      field("ethnicity", "Ethnic category", ethnicity)),
    el("button", { type: "submit", id: "save-person" }, id ? "Save changes" : "Add person"),
    alert,
  );
  return form;
}

function listingStateText(s: ListingState): string | null {
  if (s === "listed") return null;
  if (s === "removed") return "No longer in the directory";
  if ("closed" in s) return `Closed (${s.closed})`;
  return `Check: ${s.flagged}`;
}

function connectionItem(c: ConnectionView, refresh: () => void): HTMLElement {
  const statusId = uid("status");
  const reasonId = uid("reason");
  const status = select(statusId, STATUSES.map((s) => [s, s]), c.status);
  const reason = el("input", { type: "text", id: reasonId });
  const last = c.steps[c.steps.length - 1];
  const warning = listingStateText(c.listing);
  const inPlan = el("input", { type: "checkbox", id: uid("plan") });
  inPlan.checked = c.in_plan;
  inPlan.addEventListener("change", async () => { await caseloadApi.setInPlan(c.id, inPlan.checked); });
  return el("li", { class: "result", "data-connection": c.service_id },
    el("h4", {}, c.listing === "removed" ? c.service_name : el("a", { href: `#/listing/${encodeURIComponent(c.service_id)}` }, c.service_name)),
    warning ? el("p", { class: "badge badge-stale listing-warning" }, warning) : null,
    el("p", { class: "meta" }, `${c.status} since ${day(last.on_date)}${last.reason ? ` (${last.reason})` : ""}`),
    el("form", {
      class: "inline-form",
      onsubmit: async (e: Event) => { e.preventDefault(); await caseloadApi.setStatus(c.id, status.value as ConnectionStatus, reason.value); refresh(); },
    },
      el("label", { for: statusId }, "Move to"), status,
      el("label", { for: reasonId }, "Why"), reason,
      el("button", { type: "submit", class: "secondary" }, "Update")),
    el("span", { class: "check" }, inPlan, el("label", { for: inPlan.id }, "On their plan (they agreed to share it)")),
  );
}

export async function renderPerson(main: HTMLElement, personId: string): Promise<void> {
  const refresh = () => { void reload(main, personId); };
  if (personId === "new") {
    main.append(
      el("p", {}, el("a", { href: "#/caseload" }, "← Caseload")),
      el("h2", {}, "Add a person"),
      detailsForm(null, empty(), (id) => { location.hash = `#/person/${encodeURIComponent(id)}`; }),
    );
    document.getElementById("p-name")?.focus();
    return;
  }
  const v: PersonView = await caseloadApi.person(personId);
  const p = v.person;
  const alert = el("p", { class: "error", role: "alert" });
  const suggestions = el("div", { id: "suggestions" });
  const letterBox = el("div", { id: "letter" });

  const showSuggestions = async () => {
    suggestions.replaceChildren(el("p", { role: "status" }, "Looking…"));
    try {
      const found = await caseloadApi.suggest(p.id);
      suggestions.replaceChildren(found.length === 0
        ? el("p", {}, `Nothing suits ${p.name} within ${p.travel_km ?? 5} km of ${p.home_area || "their area"}.`)
        : el("ol", { class: "results", id: "suggestion-list" }, ...found.map((s) =>
          el("li", { class: "result", "data-service-id": s.service_id },
            el("h4", {}, el("a", { href: `#/listing/${encodeURIComponent(s.service_id)}` }, s.name)),
            s.organization ? el("p", { class: "org" }, s.organization) : null,
            el("p", { class: "meta reasons" }, s.reasons.join(" · ")),
            el("button", {
              type: "button", class: "secondary",
              onclick: async () => { await caseloadApi.connect(p.id, s.service_id, s.name, "suggested", s.reasons.join(" · ")); refresh(); },
            }, `Suggest ${s.name} to ${p.name}`)))));
    } catch (e) {
      suggestions.replaceChildren(el("p", { class: "error", role: "alert" }, message(e)));
    }
  };

  const contactDate = el("input", { type: "date", id: "c-date", value: todayIso() });
  const contactHow = select("c-how", [["phone", "Phone"], ["visit", "Visit"], ["video", "Video"], ["text", "Text"]], "phone");
  const contactNote = el("input", { type: "text", id: "c-note" });
  const contactNext = el("input", { type: "text", id: "c-next" });
  const fuDate = el("input", { type: "date", id: "f-due", value: todayIso() });
  const fuWhat = el("input", { type: "text", id: "f-what" });
  const fuAlert = el("p", { class: "error", role: "alert" });
  const ons: Record<string, HTMLInputElement> = {};
  const occasion = select("w-occasion", [["start", "At the start"], ["review", "At a review"]], v.wellbeing.length ? "review" : "start");
  const wAlert = el("p", { class: "error", role: "alert" });
  const confirmErase = el("div", { id: "erase-confirm", hidden: true },
    el("p", { class: "error" }, `This deletes ${p.name} and everything recorded about them, for good.`),
    el("button", { type: "button", id: "erase-for-good", onclick: async () => { await caseloadApi.erase(p.id); location.hash = "#/caseload"; } }, `Erase ${p.name} for good`),
    el("button", { type: "button", class: "secondary", onclick: () => { confirmErase.hidden = true; } }, "Keep"));

  main.append(
    el("p", {}, el("a", { href: "#/caseload" }, "← Caseload")),
    el("h2", { id: "person-name", tabindex: -1 }, p.name),
    el("p", { class: "meta" }, `${p.home_area || "No home area"} · referred ${day(p.referred_on)}${p.closed_on ? ` · closed ${day(p.closed_on)}${p.closed_reason ? ` (${p.closed_reason})` : ""}` : ""}`),
    p.goals ? el("p", { class: "description" }, `What matters to them: ${p.goals}`) : "",
    alert,
    el("section", { "aria-labelledby": "sugg-title" },
      el("h3", { id: "sugg-title" }, "Suggestions"),
      el("button", { type: "button", id: "suggest", onclick: showSuggestions }, `Suggest for ${p.name}`),
      suggestions),
    el("section", { "aria-labelledby": "conn-title" },
      el("h3", { id: "conn-title" }, "Connections"),
      v.connections.length === 0 ? el("p", {}, "None yet.")
        : el("ul", { class: "results", id: "connections" }, ...v.connections.map((c) => connectionItem(c, refresh))),
      el("p", { class: "actions" },
        el("a", { href: `#/plan/${encodeURIComponent(p.id)}`, class: "button", id: "open-plan" }, "Their plan"),
        el("button", {
          type: "button", class: "secondary", id: "letter-button",
          onclick: async () => {
            const text = await caseloadApi.letter(p.id);
            const area = el("textarea", { id: "letter-text", rows: 14, readonly: true, "aria-label": "Letter for the GP record" });
            area.value = text;
            const s = el("p", { role: "status" });
            letterBox.replaceChildren(area, el("button", { type: "button", class: "secondary", onclick: () => copyText(area, text, s) }, "Copy the letter"), s);
          },
        }, "Letter for their GP"),
      ),
      letterBox),
    el("section", { "aria-labelledby": "fu-title" },
      el("h3", { id: "fu-title" }, "Follow-ups"),
      el("ul", { class: "plain", id: "follow-ups" }, ...v.follow_ups.map((f) => el("li", {},
        `${day(f.due)}: ${f.what}`,
        f.done_on ? el("span", { class: "hint" }, ` (done ${day(f.done_on)})`)
          : el("button", { type: "button", class: "link-button", onclick: async () => { await caseloadApi.followUpDone(f.id); refresh(); } }, ` Mark “${f.what}” done`)))),
      el("form", {
        class: "inline-form", id: "follow-up-form",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try { await caseloadApi.addFollowUp(p.id, fuDate.value, fuWhat.value); refresh(); } catch (err) { fuAlert.textContent = message(err); }
        },
      },
        el("label", { for: "f-due" }, "Due"), fuDate, el("label", { for: "f-what" }, "What"), fuWhat,
        el("button", { type: "submit", class: "secondary" }, "Add follow-up")),
      fuAlert),
    el("section", { "aria-labelledby": "contact-title" },
      el("h3", { id: "contact-title" }, "Contacts"),
      el("form", {
        class: "inline-form", id: "contact-form",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          await caseloadApi.logContact(p.id, contactDate.value, contactHow.value as ContactHow, contactNote.value, contactNext.value);
          refresh();
        },
      },
        el("label", { for: "c-date" }, "Date"), contactDate, el("label", { for: "c-how" }, "How"), contactHow,
        el("label", { for: "c-note" }, "Note"), contactNote, el("label", { for: "c-next" }, "Next step"), contactNext,
        el("button", { type: "submit", class: "secondary" }, "Log contact")),
      el("ul", { class: "plain", id: "contacts" }, ...v.contacts.map((c) =>
        el("li", {}, `${day(c.on_date)} · ${c.how}: ${c.note}`, c.next_step ? el("span", { class: "hint" }, ` Next: ${c.next_step}`) : null)))),
    el("section", { "aria-labelledby": "wb-title" },
      el("h3", { id: "wb-title" }, "Wellbeing (ONS4)"),
      el("p", { class: "hint" }, "Each from 0 (not at all) to 10 (completely). For anxiety, lower is better; the four are never added up."),
      v.wellbeing.length ? el("table", { class: "people", id: "wellbeing" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Date"), el("th", { scope: "col" }, "Life satisfaction"), el("th", { scope: "col" }, "Worthwhile"), el("th", { scope: "col" }, "Happy yesterday"), el("th", { scope: "col" }, "Anxious yesterday"))),
        el("tbody", {}, ...v.wellbeing.map((w) => el("tr", {},
          el("th", { scope: "row" }, `${day(w.on_date)} (${w.occasion})`),
          ...ONS4.map(([k]) => {
            const first = v.wellbeing[0].scores[k];
            const change = w.scores[k] - first;
            return el("td", {}, `${w.scores[k]}${w === v.wellbeing[0] || change === 0 ? "" : ` (${change > 0 ? "+" : ""}${change})`}`);
          }))))) : null,
      el("form", {
        id: "wellbeing-form", class: "setting",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const scores = Object.fromEntries(ONS4.map(([k]) => [k, Number(ons[k].value)])) as unknown as Ons4;
          try { await caseloadApi.recordWellbeing(p.id, occasion.value as "start" | "review", scores); refresh(); } catch (err) { wAlert.textContent = message(err); }
        },
      },
        el("div", { class: "field" }, el("label", { for: "w-occasion" }, "When"), occasion),
        ...ONS4.map(([k, q]) => {
          ons[k] = el("input", { type: "number", id: `w-${k}`, min: 0, max: 10, step: 1, required: true });
          return el("div", { class: "field" }, el("label", { for: `w-${k}` }, q), ons[k]);
        }),
        el("button", { type: "submit", class: "secondary" }, "Record answers"),
        wAlert)),
    el("details", { class: "report", id: "edit-details" },
      el("summary", {}, `Details for ${p.name}`),
      detailsForm(p.id, p, () => refresh())),
    el("section", { class: "report", "aria-labelledby": "end-title" },
      el("h3", { id: "end-title" }, "Closing and erasing"),
      el("div", { class: "actions" },
        p.closed_on
          ? el("button", { type: "button", class: "secondary", onclick: async () => { await caseloadApi.reopen(p.id); refresh(); } }, "Reopen")
          : el("button", { type: "button", class: "secondary", id: "close-person", onclick: async () => { await caseloadApi.close(p.id, ""); refresh(); } }, "Close (support ended)"),
        el("button", { type: "button", class: "secondary", id: "erase", onclick: () => { confirmErase.hidden = false; document.getElementById("erase-for-good")?.focus(); } }, `Erase ${p.name}`)),
      confirmErase),
  );
  document.getElementById("person-name")?.focus();
}

async function reload(main: HTMLElement, personId: string): Promise<void> {
  const y = window.scrollY;
  while (main.firstChild) main.removeChild(main.firstChild);
  try {
    await renderPerson(main, personId);
    window.scrollTo(0, y);
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, message(e)));
  }
}

export async function renderPlan(main: HTMLElement, personId: string): Promise<void> {
  const v = await caseloadApi.plan(personId);
  const page = el("article", { class: "print-page plan", id: "plan" });
  const choose = (variant: "standard" | "large-print" | "easy-read") => {
    page.className = `print-page plan plan-${variant}`;
    page.dataset.variant = variant;
    area.value = variant === "easy-read" ? v.easy_read : v.text;
  };
  const area = el("textarea", { id: "plan-text", rows: 10, readonly: true, "aria-label": "The plan as text" });
  const status = el("p", { role: "status", id: "plan-status" });
  const variants = el("fieldset", { class: "filters no-print" }, el("legend", {}, "Layout"),
    ...([["standard", "Standard"], ["large-print", "Large print"], ["easy-read", "Easy read"]] as const).map(([value, label]) => {
      const r = el("input", { type: "radio", name: "variant", id: `variant-${value}`, value });
      r.checked = value === "standard";
      r.addEventListener("change", () => choose(value));
      return el("span", { class: "check" }, r, el("label", { for: r.id }, label));
    }));
  const easy = () => page.dataset.variant === "easy-read";
  const render = () => {
    page.replaceChildren(
      el("h2", {}, `${easy() ? "My plan" : "Plan for"} ${v.plan.person_name}`),
      el("p", { class: "meta" }, `Made on ${day(v.plan.made_on)}`),
      v.plan.items.length === 0 ? el("p", {}, "Nothing chosen yet: tick “On their plan” beside a connection.") : "",
      ...v.plan.items.map((i) => el("section", { class: "print-item" },
        el("h3", {}, i.name),
        i.organization && !easy() ? el("p", { class: "org" }, i.organization) : null,
        el("dl", { class: "facts" },
          ...([[easy() ? "When" : "When", i.when], [easy() ? "Where" : "Where", i.place], [easy() ? "How to go" : "How to join", i.how_to_join], ["Cost", i.cost], ["Phone", i.phones.join(", ")], ["Email", easy() ? "" : i.emails.join(", ")], ["Website", easy() ? "" : i.websites.join(", ")]] as [string, string | null][])
            .filter(([, value]) => value)
            .map(([label, value]) => el("div", { class: "dl-row" }, el("dt", {}, label), el("dd", {}, value ?? "")))))),
      v.plan.connector_name || v.plan.connector_contact
        ? el("p", { class: "who-to-call" }, `${easy() ? "Questions? Call" : "Who to call:"} ${v.plan.connector_name} ${v.plan.connector_contact}`) : "",
    );
  };
  for (const r of variants.querySelectorAll("input")) r.addEventListener("change", render);
  choose("standard");
  render();
  main.append(
    el("p", { class: "no-print" }, el("a", { href: `#/person/${encodeURIComponent(personId)}` }, "← Back")),
    variants,
    page,
    el("div", { class: "actions no-print" },
      el("button", { type: "button", id: "print-plan", onclick: () => window.print() }, "Print"),
      el("button", {
        type: "button", id: "save-plan-pdf", class: "secondary",
        onclick: async () => {
          status.textContent = "Saving…";
          try {
            status.textContent = `Saved as ${await caseloadApi.planPdf()}`;
          } catch (e) {
            status.textContent = message(e);
          }
        },
      }, "Save as PDF"),
      el("button", { type: "button", class: "secondary", onclick: () => copyText(area, area.value, status) }, "Copy as text")),
    el("div", { class: "no-print" }, area, status),
  );
}
