import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
} from "react";
import type { LogInfo } from "../../bindings/LogInfo";
import type { LogLine } from "../../bindings/LogLine";
import type { LogSource } from "../../bindings/LogSource";
import type { LogView } from "../../bindings/LogView";
import type { Stream } from "../../bindings/Stream";
import { useNavigation } from "../../app/navigation";
import { Button, inputClass } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";
import { useCancelRun } from "../history/queries";
import { formatWhen, statusLabel, statusStyle } from "../jobs/format";
import { stripAnsi } from "./ansi";
import { Follower } from "./follower";
import { formatBytes, formatCount, plural } from "./format";
import { LineStore, viewKey } from "./lineStore";
import { LogRow, ROW_HEIGHT } from "./LogRow";
import { LogScrollbar } from "./LogScrollbar";
import { SearchSession, type SearchOptions, type SearchSnapshot } from "./searchSession";

/** Rows assumed when the viewport cannot be measured (no ResizeObserver, e.g. in tests). */
const FALLBACK_ROWS = 40;
/** Copying stops here: a clipboard is no place for a whole 1 GB log. */
export const COPY_LIMIT = 100_000;
const SEARCH_DEBOUNCE_MS = 250;
const INFO_REFRESH_MS = 300;

const toggleClass = (on: boolean) =>
  "rounded-md border px-2 py-1 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-600 disabled:opacity-50 " +
  (on
    ? "border-sky-600 bg-sky-50 text-sky-800 dark:border-sky-500 dark:bg-sky-950 dark:text-sky-200"
    : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700");

const iconButton =
  "inline-flex h-7 min-w-7 items-center justify-center rounded-md border border-slate-300 bg-white px-1.5 text-xs text-slate-700 hover:bg-slate-50 " +
  "focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-600 disabled:opacity-50 " +
  "dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700";

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

function sourceKey(source: LogSource): string {
  return source.kind === "run" ? `run:${source.run_id}` : `app:${source.day}`;
}

function isTextTarget(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
}

/** The log viewer: any run log or day of the application log, of any size, live or not. */
export function LogViewerScreen({ source, searchPageSize = 1000 }: { source: LogSource; searchPageSize?: number }) {
  // A new source is a new viewer: scroll position, search and selection start over.
  return <LogViewer key={sourceKey(source)} source={source} searchPageSize={searchPageSize} />;
}

function RunHeader({ runId, live }: { runId: string; live: boolean }) {
  const backend = useBackend();
  const run = useQuery({ queryKey: ["logs", "run", runId], queryFn: () => backend.getRun(runId) });
  const jobId = run.data?.job_id;
  const job = useQuery({
    queryKey: ["job", jobId ?? ""],
    queryFn: () => backend.getJob(jobId ?? ""),
    enabled: jobId !== undefined,
  });
  const navigation = useNavigation();
  const cancel = useCancelRun();
  const status = run.data?.status;
  const style = status ? statusStyle[status] : null;
  const started = run.data?.started_at ?? run.data?.scheduled_for;
  return (
    <div className="flex min-w-0 flex-1 flex-wrap items-center gap-x-3 gap-y-1">
      <h1 className="truncate text-lg font-semibold" data-testid="log-title">
        {job.data?.name ?? (job.isError ? "Unknown job" : run.isError ? "Run log" : "…")}
      </h1>
      {status && style && (
        <span className={`inline-flex items-center gap-1 text-sm font-medium ${style.className}`} data-testid="log-run-status">
          <span aria-hidden="true">{style.icon}</span>
          {statusLabel[status]}
        </span>
      )}
      {started && <span className="text-sm text-slate-500 dark:text-slate-400">Started {formatWhen(started)}</span>}
      {live && <LiveBadge />}
      {run.data?.trigger_path && (
        <span className="truncate font-mono text-sm text-slate-600 dark:text-slate-400" title={run.data.trigger_path} data-testid="log-trigger-path">
          File: {run.data.trigger_path}
        </span>
      )}
      {run.data?.error && (
        <span className="truncate text-sm text-red-700 dark:text-red-400" title={run.data.error}>
          {run.data.error}
        </span>
      )}
      {(status === "running" || status === "queued") && (
        <Button variant="danger" className="!px-2.5 !py-1" disabled={cancel.isPending} onClick={() => cancel.mutate(runId)}>
          {cancel.isPending ? "Cancelling…" : "Cancel run"}
        </Button>
      )}
      {jobId && (
        <Button variant="ghost" className="!px-2 !py-1" onClick={() => navigation.navigate({ screen: "job", jobId, tab: "history" })}>
          Job history
        </Button>
      )}
      {cancel.error && (
        <span role="alert" className="text-sm text-red-700 dark:text-red-400">
          Could not cancel: {BackendError.from(cancel.error).message}
        </span>
      )}
    </div>
  );
}

function AppHeader({ day, live }: { day: string; live: boolean }) {
  const backend = useBackend();
  const navigation = useNavigation();
  const days = useQuery({ queryKey: ["logs", "app-logs"], queryFn: () => backend.listAppLogs() });
  const options = days.data ?? [];
  const known = options.some((d) => d.day === day);
  return (
    <div className="flex min-w-0 flex-1 flex-wrap items-center gap-3">
      <h1 className="text-lg font-semibold">Application log</h1>
      <label className="flex items-center gap-2 text-sm">
        <span className="text-slate-600 dark:text-slate-300">Day</span>
        <select
          className={`${inputClass} !w-auto !py-1`}
          value={day}
          data-testid="log-day"
          onChange={(e) => navigation.navigate({ screen: "log", source: { kind: "app", day: e.target.value } })}
        >
          {!known && <option value={day}>{day}</option>}
          {options.map((d) => (
            <option key={d.day} value={d.day}>
              {d.day} ({formatBytes(d.bytes)})
            </option>
          ))}
        </select>
      </label>
      {live && <LiveBadge />}
    </div>
  );
}

function LiveBadge() {
  return (
    <span
      className="inline-flex items-center gap-1.5 rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-semibold text-emerald-800 dark:bg-emerald-900 dark:text-emerald-100"
      data-testid="log-live"
    >
      <span className="size-1.5 animate-pulse rounded-full bg-emerald-500" aria-hidden="true" />
      Live
    </span>
  );
}

function Notice({ children, tone = "muted" }: { children: ReactNode; tone?: "muted" | "error" }) {
  return tone === "error" ? (
    <div role="alert" className="m-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
      {children}
    </div>
  ) : (
    <div className="m-auto p-8 text-center text-sm text-slate-500 dark:text-slate-400" data-testid="log-notice">
      {children}
    </div>
  );
}

interface Selection {
  anchor: number;
  focus: number;
}

function LogViewer({ source, searchPageSize }: { source: LogSource; searchPageSize: number }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const navigation = useNavigation();
  const viewportId = useId();
  const [store] = useState(() => new LineStore(backend));
  const storeVersion = useSyncExternalStore(store.subscribe, store.getVersion);

  // What is shown.
  const [stream, setStream] = useState<Stream | undefined>(undefined);
  const baseView = useMemo<LogView>(() => ({ source }), [source]);
  const view = useMemo<LogView>(() => (stream ? { source, stream } : { source }), [source, stream]);
  const vkey = viewKey(view);
  const infoQuery = (v: LogView) => ({ queryKey: ["logs", "info", viewKey(v)], queryFn: () => backend.logInfo(v) });

  // Live: lines seen by the follower, and whether it has ended.
  const [liveLines, setLiveLines] = useState(0);
  const [ended, setEnded] = useState(false);
  const [followError, setFollowError] = useState<string | null>(null);

  const baseInfo = useQuery({
    ...infoQuery(baseView),
    // A live application log has no follower: poll it.
    refetchInterval: (q) => (source.kind === "app" && (q.state.data as LogInfo | undefined)?.live ? 2000 : false),
  });
  const viewInfo = useQuery({ ...infoQuery(view), enabled: stream !== undefined });
  const live = (baseInfo.data?.live ?? false) && !ended;
  const total = stream ? (viewInfo.data?.lines ?? 0) : Math.max(baseInfo.data?.lines ?? 0, liveLines);

  // Scrolling: `top` is the first visible position; pinned = follow the end.
  const [top, setTop] = useState(0);
  const [pinned, setPinned] = useState(false);
  const [wrap, setWrap] = useState(false);
  const [showTime, setShowTime] = useState(true);
  const [viewport, setViewport] = useState<HTMLDivElement | null>(null);
  const [height, setHeight] = useState(0);
  const rows = height > 0 ? Math.max(1, Math.floor(height / ROW_HEIGHT)) : FALLBACK_ROWS;
  const pinTop = Math.max(0, total - rows);
  // Wrapped lines are taller than a row: let the last line come up to the top rather than
  // skip lines below a wrapped screen; End pins the tail to the bottom.
  const maxTop = wrap ? Math.max(0, total - 1) : pinTop;
  const effectiveTop = pinned ? pinTop : Math.min(top, maxTop);
  const firstRendered = pinned ? Math.max(0, total - rows - 1) : effectiveTop;
  const lastRendered = Math.min(total, pinned ? total : effectiveTop + rows + 1);

  const [selection, setSelection] = useState<Selection | null>(null);
  const [message, setMessage] = useState<{ text: string; error?: boolean } | null>(null);

  const scrollTo = useCallback(
    (position: number) => {
      const next = Math.max(0, Math.min(Math.round(position), maxTop));
      setTop(next);
      setPinned(!wrap && total > 0 && next >= pinTop);
    },
    [maxTop, pinTop, total, wrap],
  );
  const scrollBy = useCallback((delta: number) => scrollTo(effectiveTop + delta), [scrollTo, effectiveTop]);
  const toEnd = useCallback(() => {
    setTop(pinTop);
    setPinned(true);
  }, [pinTop]);
  /** Brings `position` into view, a third from the top. */
  const reveal = useCallback((position: number) => scrollTo(position - Math.floor(rows / 3)), [scrollTo, rows]);

  // Measure the viewport.
  useEffect(() => {
    if (!viewport || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver((entries) => {
      const h = entries[0]?.contentRect.height ?? 0;
      setHeight(h);
    });
    observer.observe(viewport);
    return () => observer.disconnect();
  }, [viewport]);

  // Fetch what is on screen plus a screen's margin either side.
  useEffect(() => {
    if (total === 0) return;
    store.request(view, firstRendered - rows, lastRendered + rows, firstRendered, total);
  }, [store, view, firstRendered, lastRendered, rows, total]);

  // Live follow.
  const [follower] = useState(
    () =>
      new Follower(backend, {
        onStart: () => setPinned(true),
        onLines: (lines) => {
          store.append(viewKey({ source }), lines);
          const last = (lines[lines.length - 1]?.number ?? -1) + 1;
          setLiveLines((n) => Math.max(n, last));
        },
        // With a stream filter the follower's line numbers say nothing about positions: ask
        // for the view's count again (and the file's size).
        onRefresh: () => void queryClient.invalidateQueries({ queryKey: ["logs", "info"] }),
        onDone: () => {
          setEnded(true);
          void queryClient.invalidateQueries({ queryKey: ["logs"] });
        },
        onError: (text) => setFollowError(text),
      }, INFO_REFRESH_MS),
  );
  useEffect(() => {
    follower.resume();
    return () => follower.stop();
  }, [follower]);
  const followFrom = source.kind === "run" && baseInfo.data?.live ? baseInfo.data.lines : null;
  useEffect(() => {
    if (source.kind === "run" && followFrom !== null) follower.start(source.run_id, followFrom);
  }, [follower, source, followFrom]);

  // Search.
  const [query, setQuery] = useState("");
  const [regex, setRegex] = useState(false);
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [committed, setCommitted] = useState<SearchOptions>({ pattern: "", regex: false, caseSensitive: false });
  useEffect(() => {
    const timer = setTimeout(() => setCommitted({ pattern: query, regex, caseSensitive }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, regex, caseSensitive]);
  const totalRef = useRef(total);
  const topRef = useRef(effectiveTop);
  const revealRef = useRef(reveal);
  useEffect(() => {
    totalRef.current = total;
    topRef.current = effectiveTop;
    revealRef.current = reveal;
  });
  const session = useMemo(
    () =>
      committed.pattern === ""
        ? null
        : new SearchSession(backend, view, vkey, committed, searchPageSize),
    [backend, view, vkey, committed, searchPageSize],
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
  const search = useSyncExternalStore(session?.subscribe ?? noSubscribe, session?.getSnapshot ?? getEmptySnapshot);
  const typing = query !== committed.pattern || regex !== committed.regex || caseSensitive !== committed.caseSensitive;
  const searching = query !== "" && (typing || search.status === "searching" || search.busy);

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

  // Stream filter: keep the top line where it is.
  const changeStream = async (next: Stream | undefined) => {
    if (next === stream) return;
    const nextView: LogView = next ? { source, stream: next } : { source };
    const topLine = store.get(vkey, effectiveTop);
    const number = topLine?.number ?? (stream ? 0 : effectiveTop);
    try {
      const [position] = await Promise.all([
        backend.locateLogLine(nextView, number),
        queryClient.fetchQuery(infoQuery(nextView)),
      ]);
      setStream(next);
      setSelection(null);
      setTop(position);
    } catch (e) {
      setMessage({ text: `Could not filter: ${BackendError.from(e).message}`, error: true });
    }
  };

  // Go to line.
  const [gotoText, setGotoText] = useState("");
  const goToLine = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(gotoText.replace(/[\s,]/g, ""));
    if (!Number.isInteger(n) || n < 1) {
      setMessage({ text: "Enter a line number (1 or more)", error: true });
      return;
    }
    try {
      const position = stream ? await backend.locateLogLine(view, n - 1) : n - 1;
      const target = Math.max(0, Math.min(position, total - 1));
      reveal(target);
      setSelection({ anchor: target, focus: target });
      setMessage(null);
    } catch (err) {
      setMessage({ text: BackendError.from(err).message, error: true });
    }
  };

  // Selection and copying.
  const onSelect = useCallback((position: number, extend: boolean) => {
    setSelection((s) => {
      if (extend && s) return { anchor: s.anchor, focus: position };
      if (!extend && s && s.anchor === position && s.focus === position) return null;
      return { anchor: position, focus: position };
    });
  }, []);
  const copy = async () => {
    const [from, to] = selection
      ? [Math.min(selection.anchor, selection.focus), Math.max(selection.anchor, selection.focus) + 1]
      : [effectiveTop, Math.min(total, effectiveTop + rows)];
    const end = Math.min(to, from + COPY_LIMIT);
    try {
      if (!navigator.clipboard) throw new Error("the clipboard is not available");
      const lines = await store.readRange(view, from, end);
      await navigator.clipboard.writeText(lines.map((l) => stripAnsi(l.text)).join("\n"));
      setMessage({
        text:
          to - from > COPY_LIMIT
            ? `Copied the first ${formatCount(COPY_LIMIT)} of ${formatCount(to - from)} selected lines (the limit)`
            : `Copied ${plural(lines.length, "line")}`,
      });
    } catch (e) {
      setMessage({ text: `Could not copy: ${BackendError.from(e).message}`, error: true });
    }
  };

  const reveal_ = useCallback(() => {
    void backend.revealLog(source).catch((e: unknown) => setMessage({ text: `Could not open the folder: ${BackendError.from(e).message}`, error: true }));
  }, [backend, source]);

  // Wheel: lines per frame, fractions kept.
  const wheel = useRef({ pending: 0, frame: 0 });
  const scrollByRef = useRef(scrollBy);
  useEffect(() => {
    scrollByRef.current = scrollBy;
  });
  useEffect(() => {
    if (!viewport) return;
    const state = wheel.current;
    const onWheel = (e: WheelEvent) => {
      if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) return; // horizontal: the browser scrolls
      const lines = e.deltaMode === 1 ? e.deltaY : e.deltaMode === 2 ? e.deltaY * rows : e.deltaY / ROW_HEIGHT;
      state.pending += lines;
      if (state.frame !== 0) return;
      const apply = () => {
        state.frame = 0;
        const whole = Math.trunc(state.pending);
        state.pending -= whole;
        if (whole !== 0) scrollByRef.current(whole);
      };
      state.frame = typeof requestAnimationFrame === "function" ? requestAnimationFrame(apply) : window.setTimeout(apply, 16);
    };
    // The scrollbar beside the lines scrolls them too.
    const area = viewport.parentElement ?? viewport;
    area.addEventListener("wheel", onWheel, { passive: true });
    return () => area.removeEventListener("wheel", onWheel);
  }, [viewport, rows]);

  const onViewportKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, rows - 1);
    const keys: Record<string, () => void> = {
      ArrowDown: () => scrollBy(1),
      ArrowUp: () => scrollBy(-1),
      PageDown: () => scrollBy(page),
      PageUp: () => scrollBy(-page),
      " ": () => scrollBy(e.shiftKey ? -page : page),
      Home: () => scrollTo(0),
      End: toEnd,
    };
    const action = keys[e.key];
    if (action && !e.altKey) {
      e.preventDefault();
      action();
    }
  };

  // Window-wide shortcuts while the viewer is open.
  const searchInput = useRef<HTMLInputElement>(null);
  const gotoInput = useRef<HTMLInputElement>(null);
  const shortcuts = useRef<(e: globalThis.KeyboardEvent) => void>(() => {});
  useEffect(() => {
    shortcuts.current = (e) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.altKey && (e.key === "f" || e.key === "F")) {
        e.preventDefault();
        searchInput.current?.focus();
        searchInput.current?.select();
      } else if (mod && !e.altKey && (e.key === "g" || e.key === "G")) {
        e.preventDefault();
        gotoInput.current?.focus();
        gotoInput.current?.select();
      } else if (e.key === "F3") {
        e.preventDefault();
        goMatch(e.shiftKey ? -1 : 1);
      } else if (mod && (e.key === "Home" || e.key === "End") && !isTextTarget(e.target)) {
        e.preventDefault();
        if (e.key === "Home") scrollTo(0);
        else toEnd();
      }
    };
  });
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => shortcuts.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // What to render.
  void storeVersion; // lines come from the store; its version re-renders this
  const digits = String(Math.max(total, baseInfo.data?.lines ?? 0, 1)).length;
  const selFrom = selection ? Math.min(selection.anchor, selection.focus) : -1;
  const selTo = selection ? Math.max(selection.anchor, selection.focus) : -2;
  const rendered: Array<{ position: number; line: LogLine | undefined }> = [];
  for (let p = firstRendered; p < lastRendered; p++) rendered.push({ position: p, line: store.get(vkey, p) });
  const loadingLines = rendered.some((r) => r.line === undefined);
  const info = stream ? viewInfo.data : baseInfo.data;
  const loadError = baseInfo.error ?? viewInfo.error;

  let body: ReactNode;
  if (loadError) {
    body = <Notice tone="error">Could not open this log: {BackendError.from(loadError).message}</Notice>;
  } else if (!info) {
    body = <Notice>Loading log…</Notice>;
  } else if (total === 0) {
    body = (
      <Notice>
        {live
          ? "Waiting for output…"
          : stream
            ? `No ${stream} lines in this log`
            : source.kind === "run"
              ? "This run wrote no output"
              : "Nothing was logged this day"}
      </Notice>
    );
  } else {
    body = (
      <div className={`flex min-h-full w-max min-w-full flex-col ${pinned && total > rows ? "h-full justify-end" : ""}`}>
        {rendered.map(({ position, line }) => {
          const matchIndex = search.byPosition.get(position);
          const match = matchIndex === undefined ? undefined : search.matches.get(matchIndex);
          return (
            <LogRow
              key={position}
              position={position}
              line={line}
              digits={digits}
              wrap={wrap}
              showTime={showTime}
              selected={position >= selFrom && position <= selTo}
              ranges={match?.ranges}
              current={matchIndex !== undefined && matchIndex === search.current}
              onSelect={onSelect}
            />
          );
        })}
      </div>
    );
  }

  const streams: Array<[Stream | undefined, string]> = [
    [undefined, "All"],
    ["stdout", "stdout"],
    ["stderr", "stderr"],
  ];

  let matchText = "";
  if (query !== "") {
    if (searching) matchText = "Searching…";
    else if (search.status === "error") matchText = "";
    else if (search.total === 0) matchText = "No matches";
    else if (search.current >= 0) matchText = `${formatCount(search.current + 1)} of ${formatCount(search.total)}`;
    else matchText = plural(search.total, "match", "matches");
  }

  return (
    <div className="flex h-full min-h-0 flex-col bg-white text-slate-900 dark:bg-slate-950 dark:text-slate-100" data-testid="log-viewer">
      <header className="flex flex-wrap items-center gap-3 border-b border-slate-200 px-4 py-2.5 dark:border-slate-800">
        <Button variant="ghost" className="!px-2 !py-1" onClick={navigation.back} aria-label="Back">
          <span aria-hidden="true">←</span> Back
        </Button>
        {source.kind === "run" ? <RunHeader runId={source.run_id} live={live} /> : <AppHeader day={source.day} live={live} />}
        <Button className="!px-2.5 !py-1" onClick={reveal_} title={info?.path}>
          Open folder
        </Button>
      </header>

      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 bg-slate-50 px-4 py-2 text-sm dark:border-slate-800 dark:bg-slate-900">
        <div className="flex items-center gap-1" role="search">
          <input
            ref={searchInput}
            type="search"
            placeholder="Search log"
            aria-label="Search log"
            data-testid="log-search"
            value={query}
            spellCheck={false}
            aria-invalid={search.status === "error" && !typing}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                goMatch(e.shiftKey ? -1 : 1);
              } else if (e.key === "Escape" && query !== "") {
                e.preventDefault();
                setQuery("");
              }
            }}
            className={`${inputClass} !w-56 !py-1 font-mono`}
          />
          <button type="button" className={toggleClass(regex)} aria-pressed={regex} onClick={() => setRegex((v) => !v)} title="Use a regular expression">
            Regex
          </button>
          <button type="button" className={toggleClass(caseSensitive)} aria-pressed={caseSensitive} onClick={() => setCaseSensitive((v) => !v)} title="Match upper and lower case exactly">
            Match case
          </button>
          <button type="button" className={iconButton} aria-label="Previous match" title="Previous match (Shift+Enter, Shift+F3)" data-testid="log-prev-match" disabled={query === ""} onClick={() => goMatch(-1)}>
            ↑
          </button>
          <button type="button" className={iconButton} aria-label="Next match" title="Next match (Enter, F3)" data-testid="log-next-match" disabled={query === ""} onClick={() => goMatch(1)}>
            ↓
          </button>
          <span className="inline-flex min-w-20 items-center gap-1.5 text-xs text-slate-600 tabular-nums dark:text-slate-300" data-testid="log-match-count" aria-live="polite">
            {searching && <span className="size-3 animate-spin rounded-full border-2 border-slate-300 border-t-sky-600" aria-hidden="true" />}
            {matchText}
          </span>
          {search.status === "error" && !typing && query !== "" && (
            <span role="alert" className="max-w-sm truncate text-xs text-red-700 dark:text-red-400" title={search.error ?? undefined} data-testid="log-search-error">
              {search.error}
            </span>
          )}
        </div>

        {source.kind === "run" && (
          <div role="group" aria-label="Stream" className="ml-2 inline-flex overflow-hidden rounded-md border border-slate-300 dark:border-slate-600">
            {streams.map(([value, label]) => (
              <button
                key={label}
                type="button"
                aria-pressed={stream === value}
                onClick={() => void changeStream(value)}
                className={
                  "px-2 py-1 text-xs font-medium focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-600 " +
                  (stream === value
                    ? "bg-sky-600 text-white"
                    : "bg-white text-slate-700 hover:bg-slate-50 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700")
                }
              >
                {label}
              </button>
            ))}
          </div>
        )}

        <button type="button" className={toggleClass(wrap)} aria-pressed={wrap} onClick={() => setWrap((v) => !v)}>
          Wrap lines
        </button>
        <button type="button" className={toggleClass(showTime)} aria-pressed={showTime} onClick={() => setShowTime((v) => !v)}>
          Show time
        </button>

        <form className="flex items-center gap-1" onSubmit={(e) => void goToLine(e)}>
          <input
            ref={gotoInput}
            inputMode="numeric"
            placeholder="Go to line"
            aria-label="Go to line"
            data-testid="log-goto"
            value={gotoText}
            onChange={(e) => setGotoText(e.target.value)}
            className={`${inputClass} !w-28 !py-1`}
          />
          <button type="submit" className={iconButton}>Go</button>
        </form>

        <div className="ml-auto flex items-center gap-1">
          <button type="button" className={iconButton} aria-label="Jump to start" title="Jump to start (Ctrl+Home)" onClick={() => scrollTo(0)}>
            ⤒ Start
          </button>
          <button type="button" className={iconButton} aria-label="Jump to end" title="Jump to end (Ctrl+End)" onClick={toEnd}>
            ⤓ End
          </button>
          {live && (
            <button
              type="button"
              className={toggleClass(pinned)}
              aria-pressed={pinned}
              data-testid="log-follow"
              title="Keep showing the newest lines"
              onClick={() => {
                if (pinned) {
                  setTop(pinTop);
                  setPinned(false);
                } else toEnd();
              }}
            >
              Follow
            </button>
          )}
          <button type="button" className={iconButton} onClick={() => void copy()} disabled={total === 0} data-testid="log-copy">
            {selection ? `Copy ${plural(selTo - selFrom + 1, "line")}` : "Copy visible lines"}
          </button>
        </div>
      </div>

      <div className="relative min-h-0 flex-1">
        <div
          ref={setViewport}
          id={viewportId}
          tabIndex={0}
          role="region"
          aria-label="Log lines"
          aria-busy={loadingLines || !info}
          onKeyDown={onViewportKey}
          className="absolute inset-y-0 right-3 left-0 flex flex-col overflow-x-auto overflow-y-hidden font-mono text-[13px] focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-600"
          data-testid="log-viewport"
        >
          {body}
        </div>
        <LogScrollbar controls={viewportId} top={effectiveTop} maxTop={maxTop} rows={rows} total={total} onScroll={scrollTo} />
      </div>

      <footer className="flex flex-wrap items-center gap-x-4 gap-y-1 border-t border-slate-200 px-4 py-1.5 text-xs text-slate-600 dark:border-slate-800 dark:text-slate-400" data-testid="log-status">
        {info && (
          <>
            <span data-testid="log-line-count">{stream ? `${plural(total, `${stream} line`)} of ${plural(Math.max(baseInfo.data?.lines ?? 0, liveLines), "line")}` : plural(total, "line")}</span>
            <span data-testid="log-size">{formatBytes(baseInfo.data?.bytes ?? 0)}</span>
            {total > 0 && (
              <span data-testid="log-range">
                Lines {formatCount(firstRendered + 1)}–{formatCount(Math.min(lastRendered, firstRendered + rows))}
              </span>
            )}
            {selection && <span>{plural(selTo - selFrom + 1, "line")} selected</span>}
          </>
        )}
        {store.error && <span className="text-red-700 dark:text-red-400" role="alert">Could not read lines: {store.error.message}</span>}
        {followError && <span className="text-red-700 dark:text-red-400" role="alert">Live updates stopped: {followError}</span>}
        {message && (
          <span className={message.error ? "text-red-700 dark:text-red-400" : "text-emerald-700 dark:text-emerald-400"} role={message.error ? "alert" : "status"} data-testid="log-message">
            {message.text}
          </span>
        )}
      </footer>
    </div>
  );
}
