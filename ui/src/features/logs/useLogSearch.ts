// Search in a log view: the pattern as typed (committed after a pause), its options, the
// session that counts the matches in the engine and pages through them, and moving to the
// next or previous match.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { LogView } from "../../bindings/LogView";
import { useBackend } from "../../ipc";
import { formatCount, plural } from "./format";
import { SearchSession, type SearchOptions, type SearchSnapshot } from "./searchSession";

const SEARCH_DEBOUNCE_MS = 250;

const emptySnapshot: SearchSnapshot = {
  status: "done",
  error: null,
  total: 0,
  current: -1,
  matches: new Map(),
  byPosition: new Map(),
  busy: false,
};
const noSubscribe = () => () => {};
const getEmptySnapshot = () => emptySnapshot;

export interface LogSearchState {
  query: string;
  setQuery: (q: string) => void;
  regex: boolean;
  toggleRegex: () => void;
  caseSensitive: boolean;
  toggleCase: () => void;
  snapshot: SearchSnapshot;
  /** The box holds something not searched for yet. */
  typing: boolean;
  searching: boolean;
  /** "3 of 12", "No matches", "Searching…". */
  matchText: string;
  goMatch: (direction: 1 | -1) => void;
}

/** `top` and `total` are the viewer's now; `reveal` brings a match into view. */
export function useLogSearch(view: LogView, vkey: string, pageSize: number, top: number, total: number, reveal: (position: number) => void): LogSearchState {
  const backend = useBackend();
  const [query, setQuery] = useState("");
  const [regex, setRegex] = useState(false);
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [committed, setCommitted] = useState<SearchOptions>({ pattern: "", regex: false, caseSensitive: false });
  useEffect(() => {
    const timer = setTimeout(() => setCommitted({ pattern: query, regex, caseSensitive }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, regex, caseSensitive]);
  const totalRef = useRef(total);
  const topRef = useRef(top);
  const revealRef = useRef(reveal);
  useEffect(() => {
    totalRef.current = total;
    topRef.current = top;
    revealRef.current = reveal;
  });
  const session = useMemo(
    () => (committed.pattern === "" ? null : new SearchSession(backend, view, vkey, committed, pageSize)),
    [backend, view, vkey, committed, pageSize],
  );
  // A new pattern jumps to its first match from the top line on; a new stream filter only
  // searches again (the filter keeps the top line where it was).
  const revealedFor = useRef<SearchOptions | null>(null);
  useEffect(() => {
    if (!session) return;
    session.activate();
    const jump = revealedFor.current !== session.options;
    revealedFor.current = session.options;
    void session.start(topRef.current).then((match) => {
      if (match && jump) revealRef.current(match.position);
    });
    return () => session.dispose();
  }, [session]);
  const snapshot = useSyncExternalStore(session?.subscribe ?? noSubscribe, session?.getSnapshot ?? getEmptySnapshot);
  const typing = query !== committed.pattern || regex !== committed.regex || caseSensitive !== committed.caseSensitive;
  const searching = query !== "" && (typing || snapshot.status === "searching" || snapshot.busy);

  const goMatch = useCallback(
    (direction: 1 | -1) => {
      if (query === "") return;
      if (typing || !session) {
        setCommitted({ pattern: query, regex, caseSensitive });
        return;
      }
      void (direction === 1 ? session.next(totalRef.current) : session.previous(totalRef.current)).then((match) => {
        if (match) revealRef.current(match.position);
      });
    },
    [query, typing, session, regex, caseSensitive],
  );

  let matchText = "";
  if (query !== "") {
    if (searching) matchText = "Searching…";
    else if (snapshot.status === "error") matchText = "";
    else if (snapshot.total === 0) matchText = "No matches";
    else if (snapshot.current >= 0) matchText = `${formatCount(snapshot.current + 1)} of ${formatCount(snapshot.total)}`;
    else matchText = plural(snapshot.total, "match", "matches");
  }

  return {
    query,
    setQuery,
    regex,
    toggleRegex: () => setRegex((v) => !v),
    caseSensitive,
    toggleCase: () => setCaseSensitive((v) => !v),
    snapshot,
    typing,
    searching,
    matchText,
    goMatch,
  };
}
