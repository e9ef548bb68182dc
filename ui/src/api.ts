// Typed calls to the app's commands (src-tauri/src/commands.rs). The UI never sees SQL or
// files: only these.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type When =
  | { kind: "any" }
  | { kind: "open-now" }
  | { kind: "at"; local: string }
  | { kind: "this-week"; days: string[]; parts: string[] };

export interface SearchRequest {
  place?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  radius_km?: number | null;
  limit?: number | null;
  no_referral: boolean;
  domain?: string | null;
  interest?: string | null;
  /** Any of these interests. */
  interests?: string[];
  free: boolean;
  wheelchair: boolean;
  /** With `wheelchair`: also list the matches that do not say. */
  include_unstated?: boolean;
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
  step_free_not_stated: boolean;
  /** Listed though it does not say these things a filter asked for. */
  not_stated: string[];
}

export interface SearchResponse {
  origin: { label: string; latitude: number; longitude: number };
  radius_km: number;
  /** With the wheelchair filter: how many more do not say whether they have step-free access. */
  unstated: number;
  /** What those leave unsaid: "step-free access", "cost", "whether a referral is needed". */
  unstated_about: string[];
  results: ResultRow[];
  /** How many match within the radius in all. */
  total: number;
}

/** One place to offer when the typed place could be several, or was misspelt. */
export interface PlaceOption {
  /** "St Ives (town, Cornwall)". */
  label: string;
  /** What to search for to get exactly this place: "St Ives, Cornwall". */
  place: string;
}

/** The app asks which place was meant. */
export interface PlaceQuestion {
  /** `Which "Newcastle" did you mean?` */
  question: string;
  /** How to name a place not offered, when there are more than the choices. */
  note: string | null;
  /** All in one sentence, choices included. */
  message: string;
  did_you_mean: boolean;
  choices: PlaceOption[];
}

export type SearchAnswer =
  | ({ kind: "results" } & SearchResponse)
  | ({ kind: "choose-place" } & PlaceQuestion);

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
  /** Name and address on one line, never repeating itself. */
  line: string | null;
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
  checked_on: string | null;
  may_be_out_of_date: boolean;
  /** "Closed" or "Temporarily closed" when the listing is published as not running. */
  closed: string | null;
  has_sessions: boolean;
}

/** Where some of the directory's listings came from, and how many. */
export interface SourceCount {
  kind: "region" | "feed" | "imported";
  name: string;
  description: string;
  attribution: string[];
  listings: number;
}

/** A feed the directory follows. */
export interface FeedRow {
  feed: string;
  /** Listings shown from it. */
  listings: number;
  /** Listings it publishes that another feed's version is shown for. */
  shadowed: number;
  seq: number;
  /** When the directory was last up to date with it, e.g. "1 Dec 2026, 14:05"; null before its first update. */
  updated: string | null;
  /** The feed address set in settings (not stopped from the list). */
  configured: boolean;
}

export interface RegionsView {
  sources: SourceCount[];
  /** Bundled regions the directory does not hold. */
  available: { id: string; name: string; description: string }[];
  /** The configured feed first, then the others by address. */
  feeds: FeedRow[];
}

export interface AppInfo {
  sources: SourceCount[];
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
  status: "queued" | "in_review" | "approved" | "rejected" | "invalid";
  reason: string;
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

/** A town or city to name on a map drawn without tiles. */
export interface MapLabel { name: string; kind: "city" | "town" | "suburb"; latitude: number; longitude: number }

export const api = {
  appInfo: () => invoke<AppInfo>("app_info"),
  filterChoices: () => invoke<Choices>("filter_choices"),
  mapLabels: (south: number, west: number, north: number, east: number, most: number) =>
    invoke<MapLabel[]>("map_labels", { south, west, north, east, most }),
  search: (request: SearchRequest) => invoke<SearchAnswer>("search", { request }),
  listing: (id: string) => invoke<{ detail: Detail; saved: boolean }>("listing", { id }),
  listingText: (id: string) => invoke<string>("listing_text", { id }),
  saveCalendar: (id: string) => invoke<string>("save_calendar", { id }),
  calendarOpen: (id: string, reveal: boolean) => invoke<void>("calendar_open", { id, reveal }),
  savedList: () => invoke<{ saved: Saved; detail: Detail | null }[]>("saved_list"),
  setSaved: (id: string, name: string, saved: boolean) =>
    invoke<boolean>("set_saved", { id, name, saved }),
  savedText: () => invoke<string>("saved_text"),
  reportProblem: (id: string, kind: Report["kind"], comment: string) =>
    invoke<Report>("report_problem", { id, kind, comment }),
  reports: () => invoke<Report[]>("reports"),
  removeReport: (id: number) => invoke<boolean>("remove_report", { id }),
  setSetting: (key: "feed_url" | "tile_url", value: string) =>
    invoke<string | null>("set_setting", { key, value }),
  syncNow: () => invoke<void>("sync_now"),
  regions: () => invoke<RegionsView>("regions"),
  regionAdd: (id: string) => invoke<RegionsView>("region_add", { id }),
  regionRemove: (name: string) => invoke<RegionsView>("region_remove", { name }),
  feedFollow: (feed: string) => invoke<RegionsView>("feed_follow", { feed }),
  feedUnfollow: (feed: string) => invoke<RegionsView>("feed_unfollow", { feed }),
  /** The file's bytes go as the raw body (no JSON array of numbers), its name in a header. */
  regionAddFile: async (file: File) =>
    invoke<RegionsView>("region_add_file", new Uint8Array(await file.arrayBuffer()), {
      headers: { "x-file-name": encodeURIComponent(file.name) },
    }),
  onSyncProgress: (f: (p: SyncProgress) => void): Promise<UnlistenFn> =>
    listen<SyncProgress>("sync-progress", (e) => f(e.payload)),
  onSyncFinished: (f: (p: SyncFinished) => void): Promise<UnlistenFn> =>
    listen<SyncFinished>("sync-finished", (e) => f(e.payload)),
  onNavigationBlocked: (f: () => void): Promise<UnlistenFn> => listen("navigation-blocked", () => f()),
};

// ---- coverage: where assets are lacking (coverage_commands.rs) ----

export interface CoverageRequest {
  /** A postcode, sector, district or place name. */
  place: string;
  /** Sectors whose centre is within this many km (at most 100). */
  radius_km: number;
  /** A sector lacks a domain with nothing within this many km. */
  gap_km: number;
}

export interface CoverageRow {
  sector: string;
  latitude: number;
  longitude: number;
  /** Postcodes in the sector: the density proxy. */
  postcodes: number;
  local_authority: string | null;
  /** Per domain, in `domains` order: km to the nearest no-referral listing, or null for none. */
  nearest_km: (number | null)[];
  /** Domain codes with nothing within the gap distance. */
  lacking: string[];
}

export interface CoverageView {
  origin: { label: string; latitude: number; longitude: number };
  radius_km: number;
  gap_km: number;
  domains: Choice[];
  /** Gaps first (most lacking, then most postcodes). */
  rows: CoverageRow[];
  /** How many rows lack at least one domain. */
  gaps: number;
}

export type CoverageAnswer = ({ kind: "results" } & CoverageView) | ({ kind: "choose-place" } & PlaceQuestion);

export const coverageApi = {
  coverage: (request: CoverageRequest) => invoke<CoverageAnswer>("coverage", { request }),
  saveCsv: (request: CoverageRequest) => invoke<string>("save_coverage_csv", { request }),
};

// ---- the caseload (a connector's; encrypted on this device) ----

export type ConnectionStatus = "suggested" | "introduced" | "attending" | "stopped" | "declined";
export type ContactHow = "phone" | "visit" | "video" | "text";

export interface PersonDetails {
  name: string;
  contact_method: string;
  contact_times: string;
  home_area: string;
  goals: string;
  needs: string;
  interests: string[];
  access_needs: string[];
  languages: string[];
  free_times: string[];
  no_referral_only: boolean;
  travel_km: number | null;
  nhs_number: string | null;
  gender: string | null;
  ethnicity: string | null;
}

export interface Person extends PersonDetails {
  id: string;
  referred_on: string;
  closed_on: string | null;
  closed_reason: string;
}

export interface PersonSummary {
  id: string;
  name: string;
  home_area: string;
  referred_on: string;
  closed_on: string | null;
  next_follow_up: string | null;
  attending: number;
}

export interface FollowUp {
  id: number;
  person_id: string;
  person_name: string;
  due: string;
  what: string;
  done_on: string | null;
}

export interface Agenda {
  overdue: FollowUp[];
  today: FollowUp[];
  people: PersonSummary[];
}

export interface Contact {
  id: number;
  on_date: string;
  how: ContactHow;
  note: string;
  next_step: string;
}

export type ListingState = "listed" | "removed" | { closed: string } | { flagged: string };

export interface ConnectionView {
  id: number;
  person_id: string;
  service_id: string;
  service_name: string;
  in_plan: boolean;
  steps: { status: ConnectionStatus; on_date: string; reason: string }[];
  status: ConnectionStatus;
  listing: ListingState;
}

export interface Ons4 {
  life_satisfaction: number;
  worthwhile: number;
  happy: number;
  anxious: number;
}

export interface Wellbeing {
  on_date: string;
  occasion: "start" | "review";
  scores: Ons4;
}

export interface PersonView {
  person: Person;
  contacts: Contact[];
  connections: ConnectionView[];
  follow_ups: FollowUp[];
  wellbeing: Wellbeing[];
}

export interface Suggestion {
  service_id: string;
  name: string;
  organization: string | null;
  distance_m: number;
  reasons: string[];
  misses: number;
}

export interface NewMatches {
  people: { person_id: string; person_name: string; suggestions: Suggestion[] }[];
  listings: number;
}

export interface PlanItem {
  service_id: string;
  name: string;
  organization: string | null;
  when: string | null;
  place: string | null;
  how_to_join: string;
  cost: string;
  phones: string[];
  emails: string[];
  websites: string[];
  still_listed: boolean;
}

export interface PlanView {
  plan: { person_name: string; made_on: string; items: PlanItem[]; connector_name: string; connector_contact: string };
  text: string;
  easy_read: string;
}

export const caseloadApi = {
  status: () => invoke<{ exists: boolean; unlocked: boolean; idle_minutes: number }>("caseload_status"),
  create: (passphrase: string) => invoke<void>("caseload_create", { passphrase }),
  unlock: (passphrase: string) => invoke<void>("caseload_unlock", { passphrase }),
  lock: () => invoke<void>("caseload_lock"),
  agenda: () => invoke<Agenda>("caseload_agenda"),
  person: (id: string) => invoke<PersonView>("caseload_person", { id }),
  savePerson: (id: string | null, details: PersonDetails) => invoke<Person>("caseload_save_person", { id, details }),
  logContact: (personId: string, onDate: string, how: ContactHow, note: string, nextStep: string) =>
    invoke<number>("caseload_log_contact", { personId, onDate, how, note, nextStep }),
  addFollowUp: (personId: string, due: string, what: string) => invoke<number>("caseload_add_follow_up", { personId, due, what }),
  followUpDone: (id: number) => invoke<void>("caseload_follow_up_done", { id }),
  suggest: (personId: string) => invoke<Suggestion[]>("caseload_suggest", { personId }),
  connect: (personId: string, serviceId: string, serviceName: string, status: ConnectionStatus, reason: string) =>
    invoke<number>("caseload_connect", { personId, serviceId, serviceName, status, reason }),
  setStatus: (connectionId: number, status: ConnectionStatus, reason: string) =>
    invoke<void>("caseload_set_status", { connectionId, status, reason }),
  setInPlan: (connectionId: number, inPlan: boolean) => invoke<void>("caseload_set_in_plan", { connectionId, inPlan }),
  recordWellbeing: (personId: string, occasion: "start" | "review", scores: Ons4) =>
    invoke<void>("caseload_record_wellbeing", { personId, occasion, scores }),
  plan: (personId: string) => invoke<PlanView>("caseload_plan", { personId }),
  planPdf: () => invoke<string>("caseload_plan_pdf"),
  letter: (personId: string) => invoke<string>("caseload_letter", { personId }),
  newMatches: (markSeen: boolean) => invoke<NewMatches>("caseload_new", { markSeen }),
  whoMightLike: (serviceId: string) =>
    invoke<{ person_id: string; name: string; suggestion: Suggestion }[]>("caseload_who_might_like", { serviceId }),
  close: (personId: string, reason: string) => invoke<void>("caseload_close", { personId, reason }),
  reopen: (personId: string) => invoke<void>("caseload_reopen", { personId }),
  erase: (personId: string) => invoke<void>("caseload_erase", { personId }),
  report: () => invoke<string>("caseload_report"),
  backup: () => invoke<string>("caseload_backup"),
  connector: (name: string | null, contact: string | null) =>
    invoke<{ name: string; contact: string }>("caseload_connector", { name, contact }),
  attention: () => invoke<(ConnectionView & { person_name: string; state: ListingState })[]>("caseload_attention"),
  closedOver: (months: number) => invoke<PersonSummary[]>("caseload_closed_over", { months }),
  onLocked: (f: () => void): Promise<UnlistenFn> => listen("caseload-locked", () => f()),
};

// ---- a VCSE group's own listing ----

export interface SessionForm {
  repeat: "weekly" | "fortnightly" | "monthly";
  day: string;
  nth: number | null;
  first_date: string | null;
  opens: string;
  closes: string;
}

export interface GroupForm {
  service_id: string | null;
  name: string;
  organization: string;
  description: string;
  who_for: string;
  sessions: SessionForm[];
  postcode: string;
  place: string;
  online: boolean;
  access: string;
  domain: string;
  interests: string[];
  free: boolean | null;
  wheelchair: boolean;
  languages: string[];
  phone: string;
  email: string;
  website: string;
}

export interface FormError {
  field: string;
  message: string;
}

export interface OutboxItem {
  id: number;
  kind: "submission" | "claim" | "report";
  service_id: string;
  name: string;
  created_at: string;
  sent_at: string | null;
  remote_id: string | null;
  status: Report["status"];
  reason: string;
}

/** Where this device stands with a listing's edit key: "active" (it can update the listing),
 * "pending" (once the moderators approve what it sent), or none. */
export type EditKey = "active" | "pending" | null;

export const groupApi = {
  check: (form: GroupForm) => invoke<{ when: string | null; errors: FormError[] }>("group_form_check", { form }),
  submit: (form: GroupForm) => invoke<{ item: OutboxItem | null; errors: FormError[] }>("group_submit", { form }),
  from: (id: string) => invoke<{ form: GroupForm; left_out: string[]; edit_key: EditKey }>("group_form_from", { id }),
  submissions: () => invoke<(OutboxItem & { edit_key: EditKey })[]>("group_submissions"),
};

/// Command errors arrive as plain sentences.
export function message(e: unknown): string {
  return typeof e === "string" ? e : e instanceof Error ? e.message : String(e);
}
