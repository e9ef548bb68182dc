// What the UI remembers while the person moves between screens: the search form and its
// filters, the last answer, and the app's settings. The search is also kept by the app (the
// `search` command stores it), so it survives a restart.
import type { AppInfo, Choices, PlaceQuestion, SearchRequest, SearchResponse } from "./api";

export const emptySearch = (): SearchRequest => ({
  place: "",
  latitude: null,
  longitude: null,
  radius_km: 10,
  limit: 50,
  no_referral: false,
  domain: "",
  interest: "",
  interests: [],
  free: false,
  wheelchair: false,
  include_unstated: false,
  language: "",
  attendance: "",
  when: { kind: "any" },
  text: "",
});

export const state: {
  search: SearchRequest;
  answer: SearchResponse | null;
  /** Which place was meant, when the typed one could be several. */
  question: PlaceQuestion | null;
  error: string | null;
  info: AppInfo | null;
  choices: Choices | null;
  resultsView: "list" | "map";
  /** The result chosen in the list or on the map (a service id): both show the same one. */
  selected: string | null;
} = {
  search: emptySearch(),
  answer: null,
  question: null,
  error: null,
  info: null,
  choices: null,
  resultsView: "list",
  selected: null,
};
