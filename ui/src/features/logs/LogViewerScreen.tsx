// The log viewer: any run log or day of the application log, of any size, live or not. This
// file puts its parts together; each concern has its own hook or section: the viewport and
// positions (useViewport), following a live log (useFollow), search (useLogSearch), shortcuts
// (useShortcuts), the header (headers), the toolbar (LogToolbar) and the status line
// (LogStatus). Only ranges of lines are fetched (LineStore).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useId, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import type { LogInfo } from "../../bindings/LogInfo";
import type { LogLine } from "../../bindings/LogLine";
import type { LogSource } from "../../bindings/LogSource";
import type { LogView } from "../../bindings/LogView";
import type { Stream } from "../../bindings/Stream";
import { useNavigation } from "../../app/navigation";
import { Button } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";
import { stripAnsi } from "./ansi";
import { formatCount, plural } from "./format";
import { AppHeader, Notice, RunHeader } from "./headers";
import { RunValuesPanel } from "./RunValuesPanel";
import { LineStore, viewKey } from "./lineStore";
import { LogRow } from "./LogRow";
import { LogScrollbar } from "./LogScrollbar";
import { LogStatus, type StatusMessage } from "./LogStatus";
import { GoToLine, JumpAndCopy, SearchBox, StreamFilter, Toggle } from "./LogToolbar";
import { useFollow } from "./useFollow";
import { useLogSearch } from "./useLogSearch";
import { useShortcuts } from "./useShortcuts";
import { useViewport } from "./useViewport";

/** Copying stops here: a clipboard is no place for a whole 1 GB log. */
export const COPY_LIMIT = 100_000;

function sourceKey(source: LogSource): string {
  return source.kind === "run" ? `run:${source.run_id}` : `app:${source.day}`;
}

/** The log viewer: any run log or day of the application log, of any size, live or not.
 * With `line`, it opens at that line of the file (0-based), selected. */
export function LogViewerScreen({ source, line, searchPageSize = 1000 }: { source: LogSource; line?: number | undefined; searchPageSize?: number }) {
  // A new source is a new viewer: scroll position, search and selection start over.
  return <LogViewer key={`${sourceKey(source)}@${line ?? ""}`} source={source} openAt={line} searchPageSize={searchPageSize} />;
}

interface Selection {
  anchor: number;
  focus: number;
}

function LogViewer({ source, openAt, searchPageSize }: { source: LogSource; openAt: number | undefined; searchPageSize: number }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const navigation = useNavigation();
  const viewportId = useId();
  const [store] = useState(() => new LineStore(backend));
  const storeVersion = useSyncExternalStore(store.subscribe, store.getVersion);

  // What is shown: the whole log, or one stream of it.
  const [stream, setStream] = useState<Stream | undefined>(undefined);
  const baseView = useMemo<LogView>(() => ({ source }), [source]);
  const view = useMemo<LogView>(() => (stream ? { source, stream } : { source }), [source, stream]);
  const vkey = viewKey(view);
  const infoQuery = (v: LogView) => ({ queryKey: ["logs", "info", viewKey(v)], queryFn: () => backend.logInfo(v) });
  const baseInfo = useQuery({
    ...infoQuery(baseView),
    // A live application log has no follower: poll it.
    refetchInterval: (q) => (source.kind === "app" && (q.state.data as LogInfo | undefined)?.live ? 2000 : false),
  });
  const viewInfo = useQuery({ ...infoQuery(view), enabled: stream !== undefined });

  // Live: the follower's lines, and whether the run has ended. Following pins to the end.
  const [pinned, setPinned] = useState(false);
  const followFrom = source.kind === "run" && baseInfo.data?.live ? baseInfo.data.lines : null;
  const follow = useFollow(source, store, followFrom, () => setPinned(true));
  const live = (baseInfo.data?.live ?? false) && !follow.ended;
  const total = stream ? (viewInfo.data?.lines ?? 0) : Math.max(baseInfo.data?.lines ?? 0, follow.liveLines);

  const viewport = useViewport(total, pinned, setPinned);
  const { rows, top, maxTop, firstRendered, lastRendered, reveal, scrollTo, toEnd, unpin, wrap, setWrap, setElement, onKeyDown } = viewport;
  const setTop = viewport.setTop;
  const [showTime, setShowTime] = useState(true);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [message, setMessage] = useState<StatusMessage | null>(null);

  // Opened at a line (from a search over all of a job's logs): bring it into view, selected,
  // once the log's size is known.
  const openedAt = useRef(false);
  useEffect(() => {
    if (openAt === undefined || openedAt.current || total === 0) return;
    openedAt.current = true;
    const target = Math.max(0, Math.min(openAt, total - 1));
    reveal(target);
    setSelection({ anchor: target, focus: target });
  }, [openAt, total, reveal]);

  // Fetch what is on screen plus a screen's margin either side.
  useEffect(() => {
    if (total === 0) return;
    store.request(view, firstRendered - rows, lastRendered + rows, firstRendered, total);
  }, [store, view, firstRendered, lastRendered, rows, total]);

  const search = useLogSearch(view, vkey, searchPageSize, top, total, reveal);

  // Stream filter: keep the top line where it is.
  const changeStream = async (next: Stream | undefined) => {
    if (next === stream) return;
    const nextView: LogView = next ? { source, stream: next } : { source };
    const topLine = store.get(vkey, top);
    const number = topLine?.number ?? (stream ? 0 : top);
    try {
      const [position] = await Promise.all([backend.locateLogLine(nextView, number), queryClient.fetchQuery(infoQuery(nextView))]);
      setStream(next);
      setSelection(null);
      setTop(position);
    } catch (e) {
      setMessage({ text: `Could not filter: ${BackendError.from(e).message}`, error: true });
    }
  };

  // Go to line (1-based, as shown).
  const goToLine = async (n: number) => {
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
      : [top, Math.min(total, top + rows)];
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

  const revealFolder = useCallback(() => {
    void backend.revealLog(source).catch((e: unknown) => setMessage({ text: `Could not open the folder: ${BackendError.from(e).message}`, error: true }));
  }, [backend, source]);

  const searchInput = useRef<HTMLInputElement>(null);
  const gotoInput = useRef<HTMLInputElement>(null);
  useShortcuts({ searchInput, gotoInput, goMatch: search.goMatch, toStart: () => scrollTo(0), toEnd });

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
  const matches = search.snapshot;

  let body: ReactNode;
  if (loadError) {
    body = <Notice tone="error">Could not open this log: {BackendError.from(loadError).message}</Notice>;
  } else if (!info) {
    body = <Notice>Loading log…</Notice>;
  } else if (total === 0) {
    body = (
      <Notice>
        {live ? "Waiting for output…" : stream ? `No ${stream} lines in this log` : source.kind === "run" ? "This run wrote no output" : "Nothing was logged this day"}
      </Notice>
    );
  } else {
    body = (
      <div className={`flex min-h-full w-max min-w-full flex-col ${pinned && total > rows ? "h-full justify-end" : ""}`}>
        {rendered.map(({ position, line }) => {
          const matchIndex = matches.byPosition.get(position);
          const match = matchIndex === undefined ? undefined : matches.matches.get(matchIndex);
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
              current={matchIndex !== undefined && matchIndex === matches.current}
              onSelect={onSelect}
            />
          );
        })}
      </div>
    );
  }

  return (
    <div className="flex h-full min-h-0 flex-col bg-white text-slate-900 dark:bg-slate-950 dark:text-slate-100" data-testid="log-viewer">
      <header className="flex flex-wrap items-center gap-3 border-b border-slate-200 px-4 py-2.5 dark:border-slate-800">
        <Button variant="ghost" className="!px-2 !py-1" onClick={navigation.back} aria-label="Back">
          <span aria-hidden="true">←</span> Back
        </Button>
        {source.kind === "run" ? <RunHeader runId={source.run_id} live={live} /> : <AppHeader day={source.day} live={live} />}
        <Button className="!px-2.5 !py-1" onClick={revealFolder} title={info?.path}>
          Open folder
        </Button>
      </header>
      {source.kind === "run" && <RunValuesPanel runId={source.run_id} />}

      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 bg-slate-50 px-4 py-2 text-sm dark:border-slate-800 dark:bg-slate-900">
        <SearchBox search={search} inputRef={searchInput} />
        {source.kind === "run" && <StreamFilter stream={stream} onChange={(s) => void changeStream(s)} />}
        <Toggle on={wrap} onToggle={() => setWrap((v) => !v)}>
          Wrap lines
        </Toggle>
        <Toggle on={showTime} onToggle={() => setShowTime((v) => !v)}>
          Show time
        </Toggle>
        <GoToLine inputRef={gotoInput} onGo={(n) => void goToLine(n)} onError={(text) => setMessage({ text, error: true })} />
        <JumpAndCopy
          live={live}
          pinned={pinned}
          copyLabel={selection ? `Copy ${plural(selTo - selFrom + 1, "line")}` : "Copy visible lines"}
          canCopy={total > 0}
          onStart={() => scrollTo(0)}
          onEnd={toEnd}
          onFollow={() => (pinned ? unpin() : toEnd())}
          onCopy={() => void copy()}
        />
      </div>

      <div className="relative min-h-0 flex-1">
        <div
          ref={setElement}
          id={viewportId}
          tabIndex={0}
          role="region"
          aria-label="Log lines"
          aria-busy={loadingLines || !info}
          onKeyDown={onKeyDown}
          className="absolute inset-y-0 right-3 left-0 flex flex-col overflow-x-auto overflow-y-hidden font-mono text-[13px] focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-600"
          data-testid="log-viewport"
        >
          {body}
        </div>
        <LogScrollbar controls={viewportId} top={top} maxTop={maxTop} rows={rows} total={total} onScroll={scrollTo} />
      </div>

      <LogStatus
        known={info !== undefined}
        stream={stream}
        total={total}
        allLines={Math.max(baseInfo.data?.lines ?? 0, follow.liveLines)}
        bytes={baseInfo.data?.bytes ?? 0}
        shown={[firstRendered + 1, Math.min(lastRendered, firstRendered + rows)]}
        selected={selection ? selTo - selFrom + 1 : 0}
        readError={store.error ? store.error.message : null}
        followError={follow.error}
        message={message}
      />
    </div>
  );
}
