// "Add or update your group": a VCSE group's listing, checked here and again by the feed, sent
// to the region's moderators with the next update (it waits on this device until then).
import { groupApi, message, type FormError, type GroupForm, type SessionForm } from "./api";
import { el, id as uid } from "./dom";
import { state } from "./state";

const DAYS: [string, string][] = [["MO", "Monday"], ["TU", "Tuesday"], ["WE", "Wednesday"], ["TH", "Thursday"], ["FR", "Friday"], ["SA", "Saturday"], ["SU", "Sunday"]];
const ACCESS: [string, string][] = [["drop-in", "Drop in: just turn up"], ["self-referral", "Contact us first"], ["booking-required", "Book a place"], ["referral-required", "A professional must refer"]];
const STATUS: Record<string, string> = {
  queued: "Waiting on this device: it goes with your next update",
  in_review: "With the moderators",
  approved: "Published",
  rejected: "Not accepted",
  invalid: "Refused by the feed",
};

/** What the form says about this device and an existing listing's edit key. */
const KEY_WORDS: Record<"active" | "pending" | "none", string> = {
  active: "This device holds this listing's edit key: the moderators will know the update comes from your group.",
  pending: "This device is waiting for the moderators to approve what it sent for this listing; after that you can update it from here.",
  none: "This device has no edit key for this listing yet. The moderators will check that your group runs it before they publish your update; once they approve it, you can update it from this device.",
};

const blank = (): GroupForm => ({
  service_id: null, name: "", organization: "", description: "", who_for: "",
  sessions: [{ repeat: "weekly", day: "TU", nth: null, first_date: null, opens: "10:00", closes: "12:00" }],
  postcode: "", place: "", online: false, access: "", domain: "", interests: [], free: null,
  wheelchair: false, languages: [], phone: "", email: "", website: "",
});

/** A labelled control with room for its error, found by `data-field`. */
function field(name: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  const hintId = hint ? `hint-g-${name}` : "";
  control.setAttribute("aria-describedby", `${hintId} gerr-${name}`.trim());
  return el("div", { class: "field", "data-field": name },
    el("label", { for: control.id }, label),
    hint ? el("p", { class: "hint", id: hintId }, hint) : null,
    control,
    el("p", { class: "error field-error", id: `gerr-${name}` }));
}

function input(idAttr: string, value: string, type = "text"): HTMLInputElement {
  const i = el("input", { type, id: idAttr });
  i.value = value;
  return i;
}

function showErrors(form: HTMLElement, alert: HTMLElement, errors: FormError[]): void {
  for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
  form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  alert.textContent = errors.length ? `Please check ${errors.length === 1 ? "the field" : `the ${errors.length} fields`} marked.` : "";
  let first: HTMLElement | null = null;
  for (const e of errors) {
    const box = form.querySelector<HTMLElement>(`[data-field="${CSS.escape(e.field)}"]`);
    const target = box?.querySelector<HTMLElement>(".field-error") ?? null;
    if (target) target.textContent = target.textContent ? `${target.textContent} ${e.message}` : e.message;
    else alert.textContent += ` ${e.message}`;
    const control = box?.querySelector<HTMLElement>("input, select, textarea");
    control?.setAttribute("aria-invalid", "true");
    first ??= control ?? null;
  }
  first?.focus();
}

function sessionRow(i: number, s: SessionForm, onChange: () => void, remove: () => void): HTMLElement {
  const repeat = el("select", { id: `s-${i}-repeat` },
    el("option", { value: "weekly" }, "Every week"), el("option", { value: "fortnightly" }, "Every other week"), el("option", { value: "monthly" }, "Once a month"));
  repeat.value = s.repeat;
  const day = el("select", { id: `s-${i}-day` }, ...DAYS.map(([c, n]) => el("option", { value: c }, n)));
  day.value = s.day;
  const nth = el("select", { id: `s-${i}-nth` }, el("option", { value: "" }, "Choose"),
    ...([["1", "First"], ["2", "Second"], ["3", "Third"], ["4", "Fourth"], ["-1", "Last"]] as const).map(([v, n]) => el("option", { value: v }, n)));
  nth.value = s.nth == null ? "" : String(s.nth);
  const first = input(`s-${i}-first`, s.first_date ?? "", "date");
  const opens = input(`s-${i}-opens`, s.opens, "time");
  const closes = input(`s-${i}-closes`, s.closes, "time");
  const nthBox = field(`sessions.${i}.nth`, "Which one in the month", nth);
  const firstBox = field(`sessions.${i}.first_date`, "A date it runs", first, "So the right weeks are known.");
  const sync = () => {
    s.repeat = repeat.value as SessionForm["repeat"];
    s.day = day.value;
    s.nth = nth.value === "" ? null : Number(nth.value);
    s.first_date = first.value || null;
    s.opens = opens.value;
    s.closes = closes.value;
    nthBox.hidden = s.repeat !== "monthly";
    firstBox.hidden = s.repeat !== "fortnightly";
    onChange();
  };
  for (const c of [repeat, day, nth, first, opens, closes]) c.addEventListener("change", sync);
  nthBox.hidden = s.repeat !== "monthly";
  firstBox.hidden = s.repeat !== "fortnightly";
  return el("fieldset", { class: "filters session", "data-field": `sessions.${i}.day` },
    el("legend", {}, `Session ${i + 1}`),
    field(`sessions.${i}.repeat`, "How often", repeat),
    field(`sessions.${i}.day`, "Day", day),
    nthBox, firstBox,
    field(`sessions.${i}.opens`, "Starts", opens),
    field(`sessions.${i}.closes`, "Ends", closes),
    el("button", { type: "button", class: "link-button", onclick: remove }, `Remove session ${i + 1}`));
}

export async function renderGroup(main: HTMLElement, serviceId: string | null): Promise<void> {
  let form = blank();
  const notes: string[] = [];
  let keyWords: string | null = null;
  if (serviceId) {
    const start = await groupApi.from(serviceId);
    form = start.form;
    notes.push(...start.left_out);
    keyWords = KEY_WORDS[start.edit_key ?? "none"];
    if (form.sessions.length === 0) form.sessions = blank().sessions;
  }
  const alert = el("p", { class: "error", role: "alert", id: "group-alert" });
  const status = el("p", { role: "status", "aria-live": "polite", id: "group-status" });
  const readBack = el("p", { class: "meta", id: "when-read-back", "aria-live": "polite" });
  const sessionsBox = el("div", { id: "sessions" });
  const recheck = async () => {
    try {
      const c = await groupApi.check(form);
      readBack.textContent = c.when ? `When: ${c.when}` : "";
    } catch (e) {
      readBack.textContent = message(e);
    }
  };
  const drawSessions = () => {
    sessionsBox.replaceChildren(...form.sessions.map((s, i) => sessionRow(i, s, () => void recheck(), () => {
      form.sessions.splice(i, 1);
      drawSessions();
      void recheck();
    })));
  };
  drawSessions();

  const bind = <T extends HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(c: T, set: (v: string) => void): T => {
    c.addEventListener("change", () => set(c.value));
    return c;
  };
  const description = el("textarea", { id: "g-description", rows: 4 });
  description.value = form.description;
  const access = el("select", { id: "g-access" }, el("option", { value: "" }, "Choose"), ...ACCESS.map(([v, n]) => el("option", { value: v }, n)));
  access.value = form.access;
  const domain = el("select", { id: "g-domain" }, el("option", { value: "" }, "Not stated"),
    ...(state.choices?.domains ?? []).map((c) => el("option", { value: c.code }, c.label)));
  domain.value = form.domain;
  const cost = el("select", { id: "g-free" }, el("option", { value: "" }, "Not stated"), el("option", { value: "true" }, "Free"), el("option", { value: "false" }, "There is a cost"));
  cost.value = form.free == null ? "" : String(form.free);
  const interestBoxes = (state.choices?.interests ?? []).map((c) => {
    const b = el("input", { type: "checkbox", id: `g-interest-${c.code}`, value: c.code });
    b.checked = form.interests.includes(c.code);
    b.addEventListener("change", () => {
      form.interests = interestBoxes.map((x) => x.querySelector("input") as HTMLInputElement).filter((x) => x.checked).map((x) => x.value);
    });
    return el("span", { class: "check" }, b, el("label", { for: b.id }, c.label));
  });
  const online = el("input", { type: "checkbox", id: "g-online" });
  online.checked = form.online;
  online.addEventListener("change", () => { form.online = online.checked; });
  const wheelchair = el("input", { type: "checkbox", id: "g-wheelchair" });
  wheelchair.checked = form.wheelchair;
  wheelchair.addEventListener("change", () => { form.wheelchair = wheelchair.checked; });

  const formEl: HTMLFormElement = el("form", {
    id: "group-form", class: "person-form", novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      status.textContent = "";
      try {
        const r = await groupApi.submit(form);
        showErrors(formEl, alert, r.errors);
        if (r.item) {
          status.textContent = `Saved on this device and queued for your region's moderators: “${r.item.name}” goes with your next update.`;
          await drawMine();
        }
      } catch (err) {
        alert.textContent = message(err);
      }
    },
  },
    field("name", "Name of the group or activity", bind(input("g-name", form.name), (v) => { form.name = v; })),
    field("organization", "Who runs it", bind(input("g-organization", form.organization), (v) => { form.organization = v; })),
    field("description", "What happens", bind(description, (v) => { form.description = v; })),
    field("who_for", "Who it is for", bind(input("g-who-for", form.who_for), (v) => { form.who_for = v; })),
    el("h3", {}, "When"),
    sessionsBox,
    el("button", { type: "button", class: "secondary", id: "add-session", onclick: () => {
      form.sessions.push({ repeat: "weekly", day: "MO", nth: null, first_date: null, opens: "10:00", closes: "12:00" });
      drawSessions();
      void recheck();
    } }, "Add a session"),
    readBack,
    el("h3", {}, "Where"),
    field("postcode", "Postcode of the venue", bind(input("g-postcode", form.postcode), (v) => { form.postcode = v; }), "The full postcode, like BS3 4AB."),
    field("place", "Venue name and street", bind(input("g-place", form.place), (v) => { form.place = v; })),
    el("div", { class: "check", "data-field": "online" }, online, el("label", { for: "g-online" }, "Also (or only) online")),
    el("h3", {}, "Joining"),
    field("access", "How people join", bind(access, (v) => { form.access = v; })),
    field("free", "Cost", bind(cost, (v) => { form.free = v === "" ? null : v === "true"; })),
    el("div", { class: "check", "data-field": "wheelchair" }, wheelchair, el("label", { for: "g-wheelchair" }, "Step-free (wheelchair) access")),
    field("domain", "Kind of support", bind(domain, (v) => { form.domain = v; })),
    el("fieldset", { class: "filters", "data-field": "interests" }, el("legend", {}, "Interests"), ...interestBoxes, el("p", { class: "error field-error", id: "gerr-interests" })),
    field("languages", "Languages", bind(input("g-languages", form.languages.join(", ")), (v) => { form.languages = v.split(/[\s,;]+/).filter(Boolean); }), "Codes like en, cy, ur, pl."),
    el("h3", {}, "Contact"),
    field("phone", "Phone", bind(input("g-phone", form.phone, "tel"), (v) => { form.phone = v; })),
    field("email", "Email", bind(input("g-email", form.email, "email"), (v) => { form.email = v; })),
    field("website", "Website", bind(input("g-website", form.website, "url"), (v) => { form.website = v; })),
    el("button", { type: "submit", id: "group-send" }, form.service_id ? "Send the update to the moderators" : "Send to the moderators"),
    alert,
    status,
  );

  const mine = el("div", { id: "my-submissions" });
  const drawMine = async () => {
    const items = await groupApi.submissions();
    mine.replaceChildren(items.length === 0 ? el("p", {}, "Nothing sent from this device yet.")
      : el("ul", { class: "plain" }, ...items.map((i) => el("li", { "data-submission": String(i.id) },
        el("strong", {}, i.name), " — ", el("span", { class: "submission-status" }, STATUS[i.status] ?? i.status),
        i.reason ? el("span", { class: "hint" }, `: ${i.reason}`) : null,
        i.edit_key === "active" ? el("span", { class: "key-status" }, ". You can update this listing from this device.") : null))));
  };
  await drawMine();
  await recheck();
  main.append(
    el("h2", { id: "group-title", tabindex: -1 }, form.service_id ? `Update “${form.name}”` : "Add your group"),
    el("p", {}, "Your listing goes to your region's moderators. Once they approve it, everyone sees it after their next update. You can fill this in offline: it waits on this device until then."),
    ...(keyWords ? [el("p", { class: "notice", id: "group-key" }, keyWords)] : []),
    ...notes.map((n) => el("p", { class: "notice" }, `Not shown here: ${n}`)),
    formEl,
    el("section", { "aria-labelledby": "mine-title" }, el("h3", { id: "mine-title" }, "Sent from this device"), mine),
  );
  document.getElementById("group-title")?.focus();
  void uid;
}
