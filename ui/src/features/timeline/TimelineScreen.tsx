// The timeline screen: every job's runs in a window (the last day by default; an hour or a
// week), panned by dragging the chart or half a window at a time (buttons, ← and →), zoomed
// with the buttons or + and -, with what is due next after now.
import { keepPreviousData, queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useNavigation } from "../../app/navigation";
import { Button } from "../../components/Button";
import { type Backend, BackendError, useBackend } from "../../ipc";
import { useJobs, useStatus } from "../jobs/queries";
import { HeatMap } from "../overview/HeatMap";
import { gapsOfLedger, withoutLedgerRows } from "./gaps";
import { TimelineChart } from "./TimelineChart";
import { fetchWindow, roundWindow, windowAt, type Zoom, zoomIn, zoomLabel, zoomOut, zoomSpan } from "./scale";
import { dateFormat } from "../../app/intl";

const ZOOMS: Zoom[] = ["hour", "day", "week"];

/** The current time, updated every `everyMs`. */
function useClock(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** The runs, gaps and firings to come of a window (ms since the epoch). */
function timelineQuery(backend: Backend, from: number, to: number) {
  return queryOptions({
    queryKey: ["timeline", from, to],
    queryFn: () => backend.timeline(new Date(from).toISOString(), new Date(to).toISOString()),
  });
}

/** Gaps (when Sundial was asleep, closed or paused) come from the missed-run ledger with the
 * window's runs. */
export function TimelineScreen() {
  const backend = useBackend();
  const { navigate } = useNavigation();
  const jobs = useJobs();
  const status = useStatus();
  const [zoom, setZoom] = useState<Zoom>("day");
  // How far the view is moved from the one that shows now, in ms (negative: earlier).
  const [shift, setShift] = useState(0);
  const now = useClock(30_000);
  const base = windowAt(zoom, now, 0);
  const w = { from: base.from + shift, to: base.to + shift };
  // The data covers more than the view, so that a drag draws what comes in at once; it is
  // fetched again only when the view comes near its edge (or the zoom changes).
  const [f, setF] = useState(() => roundWindow(fetchWindow(zoom, w)));
  const edge = zoomSpan[zoom] / 16;
  if (f.to - f.from !== (7 * zoomSpan[zoom]) / 4 || w.from < f.from + edge || w.to > f.to - edge) {
    setF(roundWindow(fetchWindow(zoom, w)));
  }
  const timeline = useQuery({ ...timelineQuery(backend, f.from, f.to), placeholderData: keepPreviousData });
  // The window's data is asked for as the screen commits, before that frame is painted:
  // useQuery's own fetch starts in a passive effect, after the paint (a frame later, 30–40 ms
  // on the 2-core machine of B9). useQuery then shares the fetch in flight.
  const queryClient = useQueryClient();
  useLayoutEffect(() => {
    void queryClient.prefetchQuery(timelineQuery(backend, f.from, f.to));
  }, [queryClient, backend, f.from, f.to]);
  const panHalf = useCallback((direction: 1 | -1) => setShift((s) => s + (direction * zoomSpan[zoom]) / 2), [zoom]);
  /** A new zoom keeps the middle of the view where it is (or keeps showing now). */
  const changeZoom = useCallback(
    (next: Zoom) => {
      setZoom(next);
      setShift((s) => {
        if (s === 0) return 0;
        const t = Date.now();
        const was = windowAt(zoom, t, 0);
        const middle = (was.from + was.to) / 2 + s;
        const will = windowAt(next, t, 0);
        return middle - (will.from + will.to) / 2;
      });
    },
    [zoom],
  );
  const keys = useRef<(e: KeyboardEvent) => void>(() => {});
  useEffect(() => {
    keys.current = (e) => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "ArrowLeft") panHalf(-1);
      else if (e.key === "ArrowRight") panHalf(1);
      else if (e.key === "+" || e.key === "=") changeZoom(zoomIn(zoom));
      else if (e.key === "-" || e.key === "_") changeZoom(zoomOut(zoom));
      else return;
      e.preventDefault();
    };
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => keys.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  // A drag moves the view with the pointer: `fraction` of the time axis since it began.
  const dragStart = useRef(0);
  const onDragStart = useCallback(() => {
    dragStart.current = shift;
  }, [shift]);
  const onDrag = useCallback((fraction: number) => setShift(dragStart.current - fraction * zoomSpan[zoom]), [zoom]);
  const rangeFormat = dateFormat({ dateStyle: "medium", timeStyle: "short" });
  const range = `${rangeFormat.format(w.from)} – ${rangeFormat.format(w.to)}`;
  return (
    <div className="flex h-full flex-col">
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5 dark:border-slate-800">
        <h1 className="mr-2 text-base font-semibold">Timeline</h1>
        <div role="radiogroup" aria-label="Zoom" className="inline-flex rounded-md border border-slate-300 dark:border-slate-600">
          {ZOOMS.map((z) => (
            <button
              key={z}
              type="button"
              role="radio"
              aria-checked={zoom === z}
              data-testid={`zoom-${z}`}
              onClick={() => changeZoom(z)}
              className={`px-3 py-1 text-sm font-medium first:rounded-l-md last:rounded-r-md focus-visible:outline-2 focus-visible:outline-sky-600 ${
                zoom === z ? "bg-sky-600 text-white" : "text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800"
              }`}
            >
              {zoomLabel[z]}
            </button>
          ))}
        </div>
        <Button onClick={() => panHalf(-1)} data-testid="pan-earlier" title="Earlier (←, or drag the chart)">
          ← Earlier
        </Button>
        <Button onClick={() => setShift(0)} disabled={shift === 0} data-testid="pan-now">
          Now
        </Button>
        <Button onClick={() => panHalf(1)} data-testid="pan-later" title="Later (→, or drag the chart)">
          Later →
        </Button>
        <span className="ml-auto text-sm text-slate-600 tabular-nums dark:text-slate-400" data-testid="timeline-range">
          {range}
        </span>
      </div>
      <div className="min-h-0 flex-1 overflow-auto p-4">
        {status.data?.paused && (
          <p className="mb-2 text-sm text-amber-800 dark:text-amber-300">Paused: nothing is due until you resume.</p>
        )}
        {timeline.error && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            Could not load the timeline: {BackendError.from(timeline.error).message}
          </p>
        )}
        {timeline.data?.truncated && (
          <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">More runs fell in this window than can be drawn: showing the newest. Zoom in for the rest.</p>
        )}
        {timeline.data && (
          <TimelineChart
            jobs={(jobs.data ?? []).map((s) => ({ id: s.job.id, name: s.job.name }))}
            runs={withoutLedgerRows(timeline.data.runs, timeline.data.gaps)}
            upcoming={timeline.data.upcoming}
            gaps={gapsOfLedger(timeline.data.gaps)}
            window={w}
            zoom={zoom}
            now={now}
            onOpen={(run) => navigate({ screen: "log", source: { kind: "run", run_id: run.id } })}
            onDragStart={onDragStart}
            onDrag={onDrag}
          />
        )}
        <section aria-label="Calendar of all jobs" className="mt-6" data-testid="all-jobs-heatmap">
          <h2 className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Calendar: every job's runs and failures per day</h2>
          <HeatMap jobId={null} weeks={53} />
        </section>
      </div>
    </div>
  );
}
