// Typed calls to the app's commands (src-tauri/src/commands.rs). The UI never sees SQL or
// files: only these.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type When = { kind: "any" } | { kind: "open-now" } | { kind: "at"; local: string };

export interface SearchRequest {
  place?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  radius_km?: number | null;
  limit?: number | null;
  no_referral: boolean;
  domain?: string | null;
  interest?: string | null;
  free: boolean;
  wheelchair: boolean;
  language?: string | null;
  attendance?: string | null;
  when: When;
  text?: string | null;
}

export interface ResultRow {
  service_id: string;
  location_id: string;
  name: string;
  organization: string | null;
  distance_m: number;
  distance_text: string;
  latitude: number;
  longitude: number;
  access: string | null;
  no_referral: boolean;
  free: boolean | null;
  open: boolean | null;
  opening_text: string;
  may_be_out_of_date: boolean;
  assured_date: string | null;
  in_person: boolean;
  online: boolean;
  postcode: string | null;
}

export interface SearchResponse {
  origin: { label: string; latitude: number; longitude: number };
  radius_km: number;
  results: ResultRow[];
}

export interface Choice {
  code: string;
  label: string;
}
export interface Choices {
  domains: Choice[];
  interests: Choice[];
  languages: Choice[];
  attendance: Choice[];
}

export interface Place {
  name: string | null;
  address: string | null;
  accessibility: string[];
  latitude: number | null;
  longitude: number | null;
}

export interface Detail {
  service_id: string;
  name: string;
  organization: string | null;
  description: string | null;
  when: string | null;
  access: string | null;
  no_referral: boolean;
  how_to_join: string;
  application_process: string | null;
  eligibility: string | null;
  places: Place[];
  phones: { number: string; note: string | null }[];
  emails: string[];
  websites: string[];
  languages: string[];
  cost: string;
  free: boolean | null;
  wheelchair: boolean;
  categories: string[];
  assured_date: string | null;
  may_be_out_of_date: boolean;
  has_sessions: boolean;
}

export interface AppInfo {
  region: string | null;
  listings: number;
  feed_url: string | null;
  tile_url: string | null;
  last_search: string | null;
  last_sync: string | null;
  syncing: boolean;
  version: string;
}

export interface Saved {
  service_id: string;
  name: string;
  saved_at: string;
}

export interface Report {
  id: number;
  service_id: string;
  service_name: string;
  kind: "closed" | "wrong-details";
  comment: string;
  created_at: string;
  sent_at: string | null;
}

export interface SyncProgress {
  changesets_done: number;
  changesets_total: number;
  records_done: number;
  records_total: number;
  bytes_done: number;
  bytes_total: number;
}

export interface SyncFinished {
  ok: boolean;
  offline: boolean;
  message: string;
  at: string;
  listings: number | null;
}

export const api = {
  appInfo: () => invoke<AppInfo>("app_info"),
  filterChoices: () => invoke<Choices>("filter_choices"),
  search: (request: SearchRequest) => invoke<SearchResponse>("search", { request }),
  listing: (id: string) => invoke<{ detail: Detail; saved: boolean }>("listing", { id }),
  listingText: (id: string) => invoke<string>("listing_text", { id }),
  saveCalendar: (id: string) => invoke<string>("save_calendar", { id }),
  savedList: () => invoke<{ saved: Saved; detail: Detail | null }[]>("saved_list"),
  setSaved: (id: string, name: string, saved: boolean) =>
    invoke<boolean>("set_saved", { id, name, saved }),
  savedText: () => invoke<string>("saved_text"),
  reportProblem: (id: string, kind: Report["kind"], comment: string) =>
    invoke<Report>("report_problem", { id, kind, comment }),
  reports: () => invoke<Report[]>("reports"),
  setSetting: (key: "feed_url" | "tile_url", value: string) =>
    invoke<string | null>("set_setting", { key, value }),
  syncNow: () => invoke<void>("sync_now"),
  onSyncProgress: (f: (p: SyncProgress) => void): Promise<UnlistenFn> =>
    listen<SyncProgress>("sync-progress", (e) => f(e.payload)),
  onSyncFinished: (f: (p: SyncFinished) => void): Promise<UnlistenFn> =>
    listen<SyncFinished>("sync-finished", (e) => f(e.payload)),
  onNavigationBlocked: (f: () => void): Promise<UnlistenFn> => listen("navigation-blocked", () => f()),
};

/// Command errors arrive as plain sentences.
export function message(e: unknown): string {
  return typeof e === "string" ? e : e instanceof Error ? e.message : String(e);
}
