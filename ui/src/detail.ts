// One listing in full: how to join, when, where, contact, cost, and actions (save, calendar,
// copy or print, report a problem).
import { openUrl } from "@tauri-apps/plugin-opener";
import { api, caseloadApi, message, type Detail } from "./api";
import { append, copyText, el } from "./dom";
import { refreshSavedCount } from "./near";
import { state } from "./state";

/** A link that opens in the person's own browser, mail or phone app, never in this window. */
function externalLink(url: string, text: string, status: HTMLElement): HTMLElement {
  return el("a", {
    href: url, class: "url", rel: "noopener noreferrer",
    onclick: (e: Event) => {
      e.preventDefault();
      openUrl(url).catch((err: unknown) => {
        status.textContent = `Could not open ${text}: ${message(err)}`;
      });
    },
  }, text);
}

function row(label: string, ...value: (Node | string | null)[]): HTMLElement | null {
  const parts = value.filter((v) => v !== null && v !== "");
  if (parts.length === 0) return null;
  return el("div", { class: "dl-row" }, el("dt", {}, label), el("dd", {}, ...parts));
}

/** "Who on my caseload might like this?", when the connector's caseload is unlocked. */
async function caseloadMatches(d: Detail): Promise<HTMLElement | null> {
  let unlocked = false;
  try {
    unlocked = (await caseloadApi.status()).unlocked;
  } catch {
    return null;
  }
  if (!unlocked) return null;
  const out = el("div", { id: "who-might-like" });
  return el("section", { class: "report no-print", "aria-labelledby": "who-title" },
    el("h3", { id: "who-title" }, "Your caseload"),
    el("button", {
      type: "button", class: "secondary", id: "who-button",
      onclick: async () => {
        try {
          const found = await caseloadApi.whoMightLike(d.service_id);
          out.replaceChildren(found.length === 0
            ? el("p", {}, "No one on your caseload matches this (area, interests, free times).")
            : el("ul", { class: "plain" }, ...found.map((f) => el("li", {},
              el("a", { href: `#/person/${encodeURIComponent(f.person_id)}` }, f.name),
              el("span", { class: "hint" }, ` (${f.suggestion.reasons.join(" · ")})`)))));
        } catch (e) {
          out.replaceChildren(el("p", { class: "error", role: "alert" }, message(e)));
        }
      },
    }, "Who on my caseload might like this?"),
    out);
}

/** How far, and when next, as the results showed it (when the listing was opened from them). */
function nearLine(serviceId: string): HTMLElement | null {
  const row = state.answer?.results.find((r) => r.service_id === serviceId);
  if (!row) return null;
  return el("p", { class: "meta", id: "detail-near" },
    `${row.distance_text} from ${state.answer?.origin.label ?? "where you searched"}`,
    row.opening_text ? ` · ${row.opening_text}` : "");
}

function reportForm(d: Detail): HTMLElement {
  const status = el("p", { role: "status", "aria-live": "polite", id: "report-status" });
  // Nothing is chosen for the person: a report says what they saw, not a default.
  const closed = el("input", { type: "radio", name: "kind", value: "closed", id: "report-closed" });
  const wrong = el("input", { type: "radio", name: "kind", value: "wrong-details", id: "report-wrong" });
  const comment = el("textarea", { id: "report-comment", name: "comment", rows: 3, maxlength: 2000 });
  const form = el(
    "form",
    {
      id: "report-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!closed.checked && !wrong.checked) {
          status.textContent = "Choose what is wrong: it has closed, or its details are wrong.";
          closed.focus();
          return;
        }
        try {
          await api.reportProblem(d.service_id, wrong.checked ? "wrong-details" : "closed", comment.value);
          status.textContent =
            "Thank you. Your report is queued on this device and will be sent with the next update once your region accepts reports.";
          comment.value = "";
        } catch (err) {
          status.textContent = message(err);
        }
      },
    },
    el(
      "fieldset",
      {},
      el("legend", {}, "What is wrong?"),
      el("div", { class: "check" }, closed, el("label", { for: closed.id }, "This has closed")),
      el("div", { class: "check" }, wrong, el("label", { for: wrong.id }, "Details are wrong")),
    ),
    el("label", { for: comment.id }, "Tell us more (optional if it has closed)"),
    comment,
    el("button", { type: "submit", id: "report-send" }, "Send report"),
    status,
  );
  return el("details", { class: "report" }, el("summary", {}, "Report a problem"), form);
}

export async function renderDetail(main: HTMLElement, serviceId: string): Promise<void> {
  let view: { detail: Detail; saved: boolean };
  try {
    view = await api.listing(serviceId);
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, message(e)), el("a", { href: "#/near" }, "Back to results"));
    return;
  }
  const d = view.detail;
  const actionStatus = el("p", { role: "status", "aria-live": "polite", id: "detail-status" });
  const saveButton = el("button", { type: "button", id: "detail-save" }, view.saved ? "Remove from saved" : "Save");
  let saved = view.saved;
  saveButton.addEventListener("click", async () => {
    try {
      saved = await api.setSaved(d.service_id, d.name, !saved);
      saveButton.textContent = saved ? "Remove from saved" : "Save";
      actionStatus.textContent = saved ? "Saved to your list." : "Removed from your list.";
      await refreshSavedCount();
    } catch (e) {
      actionStatus.textContent = message(e);
    }
  });
  const calendar = el("button", {
    type: "button", id: "detail-calendar", class: "secondary",
    onclick: async () => {
      try {
        const path = await api.saveCalendar(d.service_id);
        const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
        const [folder, name] = cut >= 0 ? [path.slice(0, cut), path.slice(cut + 1)] : ["", path];
        const act = (label: string, elementId: string, reveal: boolean) => {
          const b = el("button", { type: "button", class: "secondary", id: elementId }, label);
          b.addEventListener("click", () => {
            api.calendarOpen(d.service_id, reveal).catch((e) => {
              actionStatus.append(el("span", { class: "error" }, ` ${message(e)}`));
            });
          });
          return b;
        };
        actionStatus.replaceChildren(
          `Calendar file saved: ${name}${folder ? ` in ${folder}` : ""}. Open it to add the sessions to your calendar. `,
          act("Open it", "calendar-open", false), " ",
          act("Show in folder", "calendar-reveal", true));
      } catch (e) {
        actionStatus.textContent = message(e);
      }
    },
  }, "Add sessions to my calendar");
  const copyBox = el("div", { class: "copy-box", id: "copy-box" });
  copyBox.hidden = true;
  const copy = el("button", {
    type: "button", id: "detail-copy", class: "secondary",
    onclick: async () => {
      const text = await api.listingText(d.service_id);
      const area = el("textarea", { id: "copy-text", readonly: true, rows: 8, "aria-label": "This listing as text" });
      area.value = text;
      copyBox.replaceChildren(
        area,
        el("div", { class: "actions" },
          el("button", {
            type: "button", class: "secondary",
            onclick: () => copyText(area, text, actionStatus),
          }, "Copy text"),
          el("button", { type: "button", class: "secondary", onclick: () => window.print() }, "Print"),
        ),
      );
      copyBox.hidden = false;
      area.focus();
    },
  }, "Copy / print this");

  const places = d.places.map((p) =>
    el("li", {}, p.line || "Address not given",
      p.accessibility.length ? el("span", { class: "hint" }, ` (${p.accessibility.join("; ")})`) : null),
  );
  const websites = d.websites.map((w) => el("li", {}, externalLink(w, w, actionStatus)));
  const dial = (n: string) => n.replace(/[^0-9+]/g, "");
  const phones = d.phones.map((p) => el("li", {},
    dial(p.number).length >= 3 ? externalLink(`tel:${dial(p.number)}`, p.number, actionStatus) : p.number,
    p.note ? el("span", { class: "hint" }, ` (${p.note})`) : null));
  const emails = d.emails.map((m) => el("li", {},
    /^[^\s@<>]+@[^\s@<>]+$/.test(m) ? externalLink(`mailto:${m}`, m, actionStatus) : m));

  main.append(
    el("p", {}, el("a", { href: "#/near", id: "back" }, "← Back to results")),
    el(
      "article",
      { class: "detail", id: "detail", "data-service-id": d.service_id },
      el("h2", { id: "detail-name" }, d.name),
      d.organization ? el("p", { class: "org" }, d.organization) : null,
      el("p", { class: "badges" },
        d.closed ? el("span", { class: "badge badge-closed", id: "detail-closed" }, d.closed) : null,
        d.no_referral ? el("span", { class: "badge badge-noref" }, "No referral needed") : null,
        d.may_be_out_of_date ? el("span", { class: "badge badge-stale" }, "May be out of date") : null),
      nearLine(d.service_id),
      d.description ? el("p", { class: "description", id: "detail-description" }, d.description) : null,
      el("dl", { class: "facts" },
        row("When", d.when ?? "Times not given"),
        row("How to join", d.how_to_join, d.application_process ? el("span", { class: "block" }, d.application_process) : null),
        row("Who it is for", d.eligibility),
        row("Where", places.length ? el("ul", { class: "plain" }, ...places) : null),
        row("Phone", phones.length ? el("ul", { class: "plain" }, ...phones) : null),
        row("Email", emails.length ? el("ul", { class: "plain" }, ...emails) : null),
        row("Website", websites.length ? el("ul", { class: "plain" }, ...websites) : null),
        row("Accessibility", d.wheelchair ? "Wheelchair accessible" : "Not stated"),
        row("Languages", d.languages.join(", ")),
        row("Cost", d.cost),
        row("Kind of activity", d.categories.join(", ")),
        row("Last checked", d.checked_on ?? "Not stated"),
      ),
      el("div", { class: "actions no-print" }, saveButton, d.has_sessions ? calendar : null, copy,
        el("a", { href: `#/group/${encodeURIComponent(d.service_id)}`, class: "button secondary", id: "our-group" }, "This is our group: update it")),
      actionStatus,
      copyBox,
      reportForm(d),
      await caseloadMatches(d),
    ),
  );
  append(main);
  document.getElementById("detail-name")?.focus();
}
