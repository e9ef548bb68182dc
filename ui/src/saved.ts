// The saved list, and its one-page print view with a plain-text copy.
import { api, message } from "./api";
import { copyText, el } from "./dom";
import { refreshSavedCount } from "./near";

export async function renderSaved(main: HTMLElement): Promise<void> {
  main.append(el("h2", {}, "Saved"));
  let entries;
  try {
    entries = await api.savedList();
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, message(e)));
    return;
  }
  const empty = () => el("p", { id: "saved-empty" }, "Nothing saved yet. Use “Save” on a listing to keep it here, on this device.");
  if (entries.length === 0) {
    main.append(empty());
    return;
  }
  const list = el("ul", { class: "results", id: "saved-list" });
  for (const { saved, detail } of entries) {
    list.append(
      el("li", { class: "result", "data-service-id": saved.service_id },
        el("h3", {}, detail
          ? el("a", { href: `#/listing/${encodeURIComponent(saved.service_id)}` }, detail.name)
          : saved.name),
        detail?.closed
          ? el("p", { class: "meta closed" }, el("span", { class: "badge badge-closed" }, detail.closed),
            " It is no longer running.")
          : detail ? el("p", { class: "meta" }, detail.when ?? "Times not given") : el("p", { class: "hint" }, "No longer listed."),
        el("button", {
          type: "button", class: "link-button",
          "aria-label": `Remove ${saved.name}`,
          onclick: async (e: Event) => {
            // Found before the await: once the event has been handled its currentTarget is null.
            const row = (e.currentTarget as HTMLElement).closest("li");
            await api.setSaved(saved.service_id, saved.name, false);
            row?.remove();
            if (list.childElementCount === 0) {
              list.replaceWith(empty());
              document.getElementById("print-view")?.closest("p")?.remove();
            }
            await refreshSavedCount();
          },
        }, "Remove"),
      ),
    );
  }
  main.append(
    list,
    el("p", { class: "actions" }, el("a", { href: "#/print", class: "button", id: "print-view" }, "Print or share this list")),
  );
}

export async function renderPrint(main: HTMLElement): Promise<void> {
  const entries = await api.savedList();
  const text = await api.savedText();
  const page = el("article", { class: "print-page", id: "print-page" }, el("h2", {}, "My saved list"));
  for (const { saved, detail } of entries) {
    if (!detail) {
      page.append(el("section", {}, el("h3", {}, saved.name), el("p", {}, "No longer listed.")));
      continue;
    }
    page.append(
      el("section", { class: "print-item" },
        el("h3", {}, detail.name),
        detail.closed ? el("p", {}, `Status: ${detail.closed}`) : null,
        detail.organization ? el("p", {}, detail.organization) : null,
        el("p", {}, `When: ${detail.when ?? "Times not given"}`),
        el("p", {}, `How to join: ${detail.how_to_join}`),
        ...detail.places.map((p) => el("p", {}, `Where: ${p.address ?? p.name ?? "Address not given"}`)),
        ...detail.phones.map((p) => el("p", {}, `Phone: ${p.number}`)),
        ...detail.emails.map((m) => el("p", {}, `Email: ${m}`)),
        ...detail.websites.map((w) => el("p", {}, `Website: ${w}`)),
        el("p", {}, `Cost: ${detail.cost}`),
      ),
    );
  }
  const area = el("textarea", { id: "saved-text", readonly: true, rows: 10, "aria-label": "Saved list as text" });
  area.value = text;
  const status = el("p", { role: "status", "aria-live": "polite" });
  main.append(
    el("p", { class: "no-print" }, el("a", { href: "#/saved" }, "← Back to saved")),
    page,
    el("div", { class: "no-print share" },
      el("div", { class: "actions" },
        el("button", { type: "button", id: "print-button", onclick: () => window.print() }, "Print"),
        el("button", {
          type: "button", class: "secondary", id: "copy-saved",
          onclick: () => copyText(area, text, status),
        }, "Copy as text"),
      ),
      el("label", { for: area.id }, "As plain text, to paste into a message"),
      area,
      status,
    ),
  );
}
