// The app's entry: routing between screens, the network indicator, and sync events.
import "./styles.css";
import { api, caseloadApi, message, type SearchRequest } from "./api";
import { renderCaseload } from "./caseload";
import { renderCoverage } from "./coverage";
import { renderGroup } from "./group";
import { renderPerson, renderPlan } from "./person";
import { clear, el } from "./dom";
import { renderDetail } from "./detail";
import { refreshSavedCount, renderNear } from "./near";
import { renderPrint, renderSaved } from "./saved";
import { onSyncFinished, onSyncProgress, renderSettings } from "./settings";
import { emptySearch, state } from "./state";

const main = document.getElementById("main") as HTMLElement;

function showNetwork(): void {
  const node = document.getElementById("network");
  if (!node) return;
  const online = navigator.onLine;
  node.textContent = online ? "" : "Offline: everything still works from this device.";
  node.className = online ? "network" : "network offline";
  document.body.dataset.online = String(online);
}

/** The window only shows Signpost's own screens; say so when something tried to leave them. */
function navigationBlocked(): void {
  const node = document.getElementById("notice");
  if (node) {
    node.textContent = "Signpost stays on its own pages: web links open in your browser.";
    node.hidden = false;
  }
  document.body.dataset.blockedNavigations = String(Number(document.body.dataset.blockedNavigations ?? 0) + 1);
}

async function route(): Promise<void> {
  const hash = location.hash || "#/near";
  clear(main);
  const [, screen, arg] = hash.split("/");
  const notice = document.getElementById("notice");
  if (notice) notice.hidden = true;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("[data-tab]")) {
    const current = a.dataset.tab === screen || (screen === "listing" && a.dataset.tab === "near") || (screen === "print" && a.dataset.tab === "saved")
      || ((screen === "person" || screen === "plan") && a.dataset.tab === "caseload");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.body.dataset.screen = screen;
  try {
    switch (screen) {
      case "listing":
        await renderDetail(main, decodeURIComponent(arg ?? ""));
        break;
      case "saved":
        await renderSaved(main);
        break;
      case "print":
        await renderPrint(main);
        break;
      case "settings":
        await renderSettings(main);
        break;
      case "caseload":
        await renderCaseload(main);
        break;
      case "coverage":
        renderCoverage(main);
        break;
      case "group":
        await renderGroup(main, arg ? decodeURIComponent(arg) : null);
        break;
      case "person":
        if (await caseloadOpen()) await renderPerson(main, decodeURIComponent(arg ?? ""));
        else await renderCaseload(main);
        break;
      case "plan":
        if (await caseloadOpen()) await renderPlan(main, decodeURIComponent(arg ?? ""));
        else await renderCaseload(main);
        break;
      default:
        renderNear(main);
    }
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, message(e)));
  }
}

async function caseloadOpen(): Promise<boolean> {
  return (await caseloadApi.status()).unlocked;
}

/** A locked caseload leaves nothing of itself on screen. */
function caseloadLocked(): void {
  const screen = (location.hash || "#/near").split("/")[1];
  if (screen === "caseload" || screen === "person" || screen === "plan") void route();
  document.body.dataset.caseloadLocks = String(Number(document.body.dataset.caseloadLocks ?? 0) + 1);
}

async function start(): Promise<void> {
  showNetwork();
  window.addEventListener("online", showNetwork);
  window.addEventListener("offline", showNetwork);
  try {
    const [info, choices] = await Promise.all([api.appInfo(), api.filterChoices()]);
    state.info = info;
    state.choices = choices;
    if (info.last_search) {
      try {
        state.search = { ...emptySearch(), ...(JSON.parse(info.last_search) as SearchRequest) };
      } catch {
        state.search = emptySearch();
      }
    }
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, `Signpost could not read its directory: ${message(e)}`));
    return;
  }
  await api.onSyncProgress(onSyncProgress);
  await api.onNavigationBlocked(navigationBlocked);
  await caseloadApi.onLocked(caseloadLocked);
  await api.onSyncFinished((f) => {
    onSyncFinished(f);
    state.answer = null; // the next visit to Near me searches the updated directory
  });
  window.addEventListener("hashchange", () => void route());
  void refreshSavedCount();
  await route();
}

void start();
