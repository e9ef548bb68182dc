// The connector's caseload: make or unlock it, the agenda it opens on (what is due, what is
// new), and the lock. Everything shown here came from the encrypted caseload through the app's
// commands; locking clears the screen.
import { caseloadApi, message, type FollowUp, type ListingState, type NewMatches, type PersonSummary } from "./api";
import { el } from "./dom";

/** Today as YYYY-MM-DD, local time. */
export function todayIso(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** "3 Dec 2026" from YYYY-MM-DD. */
export function day(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

function alertBox(): HTMLElement {
  return el("p", { class: "error", role: "alert", id: "caseload-error" });
}

function passphraseForm(make: boolean, done: () => void): HTMLElement {
  const error = alertBox();
  const first = el("input", { type: "password", id: "passphrase", autocomplete: make ? "new-password" : "current-password", required: true, "aria-describedby": "passphrase-hint caseload-error" });
  const again = el("input", { type: "password", id: "passphrase-again", autocomplete: "new-password", required: true });
  const form = el("form", {
    class: "setting",
    novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.textContent = "";
      if (make && first.value !== again.value) {
        error.textContent = "The two passphrases differ.";
        again.focus();
        return;
      }
      const button = form.querySelector("button");
      if (button) button.disabled = true;
      try {
        if (make) await caseloadApi.create(first.value);
        else await caseloadApi.unlock(first.value);
        first.value = "";
        again.value = "";
        done();
      } catch (err) {
        error.textContent = message(err);
        first.select();
      } finally {
        if (button) button.disabled = false;
      }
    },
  },
    el("div", { class: "field" },
      el("label", { for: "passphrase" }, make ? "Choose a passphrase" : "Passphrase"),
      el("p", { class: "hint", id: "passphrase-hint" }, make
        ? "At least 10 characters; a few ordinary words make a good one. Nobody can open the caseload without it, so keep a backup."
        : "The caseload is encrypted on this device."),
      first),
    make ? el("div", { class: "field" }, el("label", { for: "passphrase-again" }, "The same passphrase again"), again) : null,
    el("button", { type: "submit", id: "passphrase-submit" }, make ? "Make my caseload" : "Unlock"),
    error,
  );
  return form;
}

function followUpList(title: string, id: string, items: FollowUp[], refresh: () => void): HTMLElement | null {
  if (items.length === 0) return null;
  return el("section", { id, "aria-labelledby": `${id}-title` },
    el("h3", { id: `${id}-title` }, `${title} (${items.length})`),
    el("ul", { class: "results" }, ...items.map((f) =>
      el("li", { class: "result", "data-follow-up": String(f.id) },
        el("a", { href: `#/person/${encodeURIComponent(f.person_id)}` }, f.person_name),
        el("p", { class: "meta" }, `${f.what} · due ${day(f.due)}`),
        el("button", { type: "button", class: "secondary", onclick: async () => { await caseloadApi.followUpDone(f.id); refresh(); } }, `Done: ${f.what}`),
      ))),
  );
}

function newSection(m: NewMatches, refresh: () => void): HTMLElement | null {
  if (m.people.length === 0) return null;
  const l = m.listings;
  const p = m.people.length;
  const headline = `${l} new ${l === 1 ? "listing suits" : "listings suit"} ${p} ${p === 1 ? "person" : "people"}`;
  return el("section", { id: "new-matches", class: "report", "aria-labelledby": "new-title" },
    el("h3", { id: "new-title" }, headline),
    el("ul", { class: "plain" }, ...m.people.flatMap((person) => person.suggestions.map((s) =>
      el("li", {},
        el("a", { href: `#/person/${encodeURIComponent(person.person_id)}` }, person.person_name), ": ",
        el("a", { href: `#/listing/${encodeURIComponent(s.service_id)}` }, s.name),
        el("span", { class: "hint" }, ` (${s.reasons.join(" · ")})`))))),
    el("button", { type: "button", class: "secondary", id: "new-seen", onclick: async () => { await caseloadApi.newMatches(true); refresh(); } }, "Mark these as seen"),
  );
}

function stateWords(s: ListingState): string {
  if (s === "removed") return "no longer in the directory";
  if (s === "listed") return "listed";
  if ("closed" in s) return `closed (${s.closed})`;
  return s.flagged;
}

function attentionSection(items: Awaited<ReturnType<typeof caseloadApi.attention>>): HTMLElement | null {
  if (items.length === 0) return null;
  return el("section", { id: "attention", "aria-labelledby": "attention-title" },
    el("h3", { id: "attention-title" }, `Connections to check (${items.length})`),
    el("ul", { class: "plain" }, ...items.map((c) => el("li", {},
      el("a", { href: `#/person/${encodeURIComponent(c.person_id)}` }, c.person_name), `: ${c.service_name}, `,
      el("strong", {}, stateWords(c.state))))));
}

function retentionSection(people: PersonSummary[]): HTMLElement {
  return el("div", { id: "retention" },
    el("h4", {}, "Closed over 12 months ago"),
    people.length === 0
      ? el("p", {}, "No one: nothing to review.")
      : el("ul", { class: "plain" }, ...people.map((p) => el("li", {},
        el("a", { href: `#/person/${encodeURIComponent(p.id)}` }, p.name),
        el("span", { class: "hint" }, ` closed ${p.closed_on ? day(p.closed_on) : ""}: review, then erase from their page`)))));
}

export async function renderCaseload(main: HTMLElement): Promise<void> {
  const again = () => { void rerender(main); };
  const status = await caseloadApi.status();
  if (!status.exists) {
    main.append(
      el("h2", {}, "Your caseload"),
      el("p", {}, "For community connectors: the people you support, the connections you make for them and the follow-ups due. It stays on this device, encrypted, and is never sent anywhere."),
      passphraseForm(true, again),
    );
    return;
  }
  if (!status.unlocked) {
    main.append(
      el("h2", {}, "Caseload locked"),
      el("p", {}, `It locks itself after ${status.idle_minutes} minutes unused, and when you choose “Lock”.`),
      passphraseForm(false, again),
    );
    document.getElementById("passphrase")?.focus();
    return;
  }
  const [agenda, fresh, attention, closed] = await Promise.all([
    caseloadApi.agenda(), caseloadApi.newMatches(false), caseloadApi.attention(), caseloadApi.closedOver(12),
  ]);
  const actionStatus = el("p", { role: "status", "aria-live": "polite", id: "caseload-status" });
  const save = (what: () => Promise<string>, label: string) => async () => {
    try {
      actionStatus.textContent = `${label} saved to ${await what()}`;
    } catch (e) {
      actionStatus.textContent = message(e);
    }
  };
  const open = agenda.people.filter((p) => !p.closed_on);
  main.append(
    el("div", { class: "caseload-head" },
      el("h2", { id: "caseload-title" }, "Caseload"),
      el("div", { class: "actions" },
        el("a", { href: "#/person/new", class: "button", id: "add-person" }, "Add a person"),
        el("button", { type: "button", class: "secondary", id: "lock", onclick: async () => { await caseloadApi.lock(); again(); } }, "Lock"),
      )),
    el("p", { class: "meta" }, `${open.length} open, ${agenda.people.length - open.length} closed. Due today: ${agenda.today.length}. Overdue: ${agenda.overdue.length}.`),
    followUpList("Overdue", "overdue", agenda.overdue, again) ?? "",
    followUpList("Due today", "due-today", agenda.today, again) ?? "",
    agenda.overdue.length + agenda.today.length === 0 ? el("p", { id: "nothing-due" }, "Nothing due today.") : "",
    attentionSection(attention) ?? "",
    newSection(fresh, again) ?? "",
    el("section", { "aria-labelledby": "people-title" },
      el("h3", { id: "people-title" }, "People"),
      agenda.people.length === 0
        ? el("p", { id: "no-people" }, "No one yet. Add a person to start.")
        : el("table", { class: "people", id: "people" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Area"), el("th", { scope: "col" }, "Next follow-up"), el("th", { scope: "col" }, "Attending"))),
          el("tbody", {}, ...agenda.people.map((p) =>
            el("tr", { "data-person": p.id, class: p.closed_on ? "closed" : "" },
              el("td", {}, el("a", { href: `#/person/${encodeURIComponent(p.id)}` }, p.name), p.closed_on ? el("span", { class: "hint" }, " (closed)") : null),
              el("td", {}, p.home_area || "—"),
              el("td", {}, p.next_follow_up ? day(p.next_follow_up) : "—"),
              el("td", {}, String(p.attending))))))),
    el("details", { class: "report" },
      el("summary", {}, "Backup, report and your details"),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", id: "backup", onclick: save(caseloadApi.backup, "Encrypted backup") }, "Back up the caseload"),
        el("button", { type: "button", class: "secondary", id: "report", onclick: save(caseloadApi.report, "Report (counts only, under 5 hidden)") }, "Report for commissioners (CSV)")),
      retentionSection(closed),
      await connectorForm()),
    actionStatus,
  );
}

async function connectorForm(): Promise<HTMLElement> {
  const me = await caseloadApi.connector(null, null);
  const name = el("input", { type: "text", id: "connector-name", autocomplete: "name" });
  const contact = el("input", { type: "text", id: "connector-contact" });
  name.value = me.name;
  contact.value = me.contact;
  const status = el("p", { role: "status", "aria-live": "polite" });
  return el("form", {
    class: "setting",
    onsubmit: async (e: Event) => {
      e.preventDefault();
      await caseloadApi.connector(name.value, contact.value);
      status.textContent = "Saved: plans and letters name you as the one to call.";
    },
  },
    el("div", { class: "field" }, el("label", { for: "connector-name" }, "Your name (on plans and letters)"), name),
    el("div", { class: "field" }, el("label", { for: "connector-contact" }, "How people reach you"), contact),
    el("button", { type: "submit", class: "secondary" }, "Save"),
    status);
}

async function rerender(main: HTMLElement): Promise<void> {
  while (main.firstChild) main.removeChild(main.firstChild);
  try {
    await renderCaseload(main);
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, message(e)));
  }
}
