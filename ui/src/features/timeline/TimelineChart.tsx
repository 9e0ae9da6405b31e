// Runs across jobs on one time axis: a row per job, a bar per run coloured by status (a
// failure is a full-height red bar), the firings to come after "now" as hollow marks, and the
// gaps when Sundial was asleep or closed shaded and labelled. Plain SVG, drawing only the rows
// its scroll view shows (a day of 200 jobs is ~2,800 bars on ~5,600 px of rows, about 20 rows
// on screen). Dragging the chart pans it; the bars are reachable with the keyboard (Tab to
// the chart, arrows between bars, also to rows not drawn yet, Enter opens the log).
import { useCallback, useContext, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import type { RunMark } from "../../bindings/RunMark";
import type { UpcomingFire } from "../../bindings/UpcomingFire";
import { formatDuration, formatFull } from "../history/format";
import { statusFill, statusLabel } from "../jobs/format";
import { durationOf } from "../overview/stats";
import { type TimeWindow, type Zoom, tickLabel, ticks } from "./scale";
import { ChartViewportContext } from "./viewport";

/** A stretch when Sundial did not run jobs (asleep, closed), from the missed-run ledger. */
export interface Gap {
  start: string;
  end: string;
  /** Drawn in the stretch: a word or two. */
  label: string;
  /** The whole story, in the tooltip (the label when absent). */
  detail?: string;
}

export interface TimelineJob {
  id: string;
  name: string;
}

const WIDTH = 1000;
const LABEL = 170;
const AXIS = 22;
const ROW = 28;
/** Rows drawn past each edge of the view, so that a short scroll draws nothing new. */
const OVERSCAN = 6;

/** The rows drawn: an index range (`last` < `first`: none), or every row when the page has no
 * layout to read; none before the first measure (it comes before the first paint). */
type RowRange = { first: number; last: number } | "all" | "unmeasured";

function isFailure(run: RunMark): boolean {
  return run.status === "failed" || run.status === "timed_out" || run.status === "interrupted";
}

function runWords(run: RunMark, jobName: string): string {
  const ms = durationOf(run);
  return [jobName, statusLabel[run.status], formatFull(run.started_at ?? run.scheduled_for), ms === null ? null : formatDuration(ms)]
    .filter((p) => p !== null)
    .join(" · ");
}

/** Pointer movement (px) below which a press is a click, not a drag. */
const DRAG_SLOP = 4;

function runStart(run: RunMark): number {
  return Date.parse(run.started_at ?? run.scheduled_for);
}

function runEnd(run: RunMark, now: number): number {
  const start = runStart(run);
  return run.finished_at ? Date.parse(run.finished_at) : Math.max(start, now);
}

/** The bar keyboard focus goes to from `from` on `key`: along its row in time order, or to the
 * nearest bar in time in the row above or below. */
function nextBar(
  byRow: RunMark[][],
  rowOf: Map<string, number>,
  startOf: (run: RunMark) => number,
  from: RunMark,
  key: string,
): RunMark | undefined {
  const row = rowOf.get(from.job_id) ?? 0;
  const own = byRow[row] ?? [];
  const i = own.findIndex((r) => r.id === from.id);
  if (key === "ArrowLeft") return own[i - 1];
  if (key === "ArrowRight") return own[i + 1];
  if (key === "Home") return own[0];
  if (key === "End") return own[own.length - 1];
  const step = key === "ArrowUp" ? -1 : key === "ArrowDown" ? 1 : 0;
  if (step === 0) return undefined;
  const t = startOf(from);
  for (let r = row + step; r >= 0 && r < byRow.length; r += step) {
    const candidates = byRow[r] ?? [];
    if (candidates.length === 0) continue;
    return candidates.reduce((best, c) => (Math.abs(startOf(c) - t) < Math.abs(startOf(best) - t) ? c : best));
  }
  return undefined;
}

function shortName(name: string): string {
  return name.length > 24 ? `${name.slice(0, 23)}…` : name;
}

export function TimelineChart({
  jobs,
  runs,
  upcoming,
  gaps,
  window: w,
  zoom,
  now,
  onOpen,
  onDragStart,
  onDrag,
}: {
  jobs: TimelineJob[];
  runs: RunMark[];
  upcoming: UpcomingFire[];
  gaps: Gap[];
  window: TimeWindow;
  zoom: Zoom;
  now: number;
  onOpen: (run: RunMark) => void;
  /** A pointer drag began on the chart. */
  onDragStart?: () => void;
  /** The drag moved: `fraction` of the time axis's width since it began (positive: right). */
  onDrag?: (fraction: number) => void;
}) {
  const [hovered, setHovered] = useState<RunMark | null>(null);
  const [focused, setFocused] = useState<string | null>(null);
  const [tabStop, setTabStop] = useState<string | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  // While a drag is on, what is drawn reaches a window's width past each side of the view, and
  // the pointer moves it as one group (a transform, no render); the view itself changes when
  // the drag ends, or when it goes past what is drawn.
  const [dragging, setDragging] = useState(false);
  const panRef = useRef<SVGGElement>(null);
  const clipId = `timeline-plot-${useId().replace(/[^a-zA-Z0-9_-]/g, "")}`;
  const span = w.to - w.from;
  const dw = dragging ? { from: w.from - span, to: w.to + span } : w;
  const names = new Map(jobs.map((j) => [j.id, j.name]));
  // Each run's start and end, parsed once: filtering, sorting and finding the nearest bar ask
  // for them thousands of times.
  const spans = useMemo(() => new Map(runs.map((r) => [r, [runStart(r), runEnd(r, now)] as const])), [runs, now]);
  const startOf = useCallback((r: RunMark) => spans.get(r)?.[0] ?? runStart(r), [spans]);
  const endOf = useCallback((r: RunMark) => spans.get(r)?.[1] ?? runEnd(r, now), [spans, now]);
  // The data may reach past the view (it is fetched with a margin for dragging): only what
  // overlaps the view is drawn.
  const visible = useMemo(() => runs.filter((r) => endOf(r) >= w.from && startOf(r) <= w.to), [runs, startOf, endOf, w.from, w.to]);
  const drawn = useMemo(
    () => (dragging ? runs.filter((r) => endOf(r) >= dw.from && startOf(r) <= dw.to) : visible),
    [dragging, runs, startOf, endOf, dw.from, dw.to, visible],
  );
  const coming = upcoming.filter((u) => {
    const t = Date.parse(u.at);
    return t >= w.from && t <= w.to;
  });
  const comingDrawn = dragging
    ? upcoming.filter((u) => {
        const t = Date.parse(u.at);
        return t >= dw.from && t <= dw.to;
      })
    : coming;
  // A row for every job with something in the window, by name.
  const shown = new Set([...visible.map((r) => r.job_id), ...coming.map((u) => u.job_id)]);
  const rows = jobs.filter((j) => shown.has(j.id)).sort((a, b) => a.name.localeCompare(b.name));
  const rowOf = new Map(rows.map((j, i) => [j.id, i]));
  const byRow: RunMark[][] = rows.map(() => []);
  for (const r of visible) byRow[rowOf.get(r.job_id) ?? 0]?.push(r);
  for (const list of byRow) list.sort((a, b) => startOf(a) - startOf(b));
  // One bar is in the Tab order: the last one focused while it is drawn, else the newest.
  const newest = visible.reduce<RunMark | null>((best, r) => (best === null || startOf(r) > startOf(best) ? r : best), null);
  const stopRun = (tabStop === null ? undefined : visible.find((r) => r.id === tabStop)) ?? newest;
  const stop = stopRun?.id ?? null;
  const focusedRun = focused === null ? undefined : visible.find((r) => r.id === focused);
  // Only the rows in the scroll view are drawn (and a few past each edge), measured before the
  // first paint and again as the view scrolls or changes size. The Tab stop's row and the
  // focused bar's row are drawn wherever they are, so that Tab reaches the chart and a focused
  // bar scrolled away keeps its focus.
  const viewport = useContext(ChartViewportContext);
  const [range, setRange] = useState<RowRange>("unmeasured");
  const measureRows = useCallback(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const view = viewport.measure(svg);
    if (!view) {
      setRange("all");
      return;
    }
    const scale = view.width / WIDTH;
    const first = Math.floor((view.top / scale - AXIS) / ROW);
    const last = Math.floor(((view.top + view.height) / scale - AXIS) / ROW);
    // The range drawn changes only when the view leaves it (or it is much larger than needed).
    setRange((r) =>
      typeof r === "object" && r.first <= first && r.last >= last && r.last - r.first <= last - first + 4 * OVERSCAN
        ? r
        : { first: first - OVERSCAN, last: last + OVERSCAN },
    );
  }, [viewport]);
  useLayoutEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    return viewport.watch(svg, measureRows);
  }, [viewport, measureRows]);
  // The chart's height follows its number of rows: measured again when it changes.
  useLayoutEffect(() => measureRows(), [rows.length, measureRows]);
  const stopRow = stopRun ? rowOf.get(stopRun.job_id) : undefined;
  const focusedRow = focusedRun ? rowOf.get(focusedRun.job_id) : undefined;
  const rowDrawn = (i: number | undefined): i is number =>
    i !== undefined &&
    (range === "all" || (typeof range === "object" && i >= range.first && i <= range.last) || i === stopRow || i === focusedRow);
  const bars = drawn.filter((r) => rowDrawn(rowOf.get(r.job_id)));
  // The bars' events are handled once, on their group (hundreds of bars, one handler each
  // way): the bar is the event's target, its run found by id.
  const drawnById = new Map(bars.map((r) => [r.id, r]));
  const barRun = (e: { target: EventTarget }): RunMark | undefined => {
    const id = e.target instanceof Element ? e.target.getAttribute("data-run-id") : null;
    return id === null ? undefined : drawnById.get(id);
  };
  const barElement = (id: string) =>
    [...(svgRef.current?.querySelectorAll<SVGRectElement>("[data-run-id]") ?? [])].find((el) => el.getAttribute("data-run-id") === id);
  /** Scrolls the view so that row `row` shows whole (its rows are then measured and drawn). */
  const showRow = (row: number) => {
    const svg = svgRef.current;
    const view = svg ? viewport.measure(svg) : null;
    if (!svg || !view) return;
    const scale = view.width / WIDTH;
    const top = (AXIS + row * ROW) * scale;
    const bottom = top + ROW * scale;
    const dy = top < view.top ? top - view.top : bottom > view.top + view.height ? bottom - view.top - view.height : 0;
    if (dy === 0) return;
    viewport.scrollBy(svg, dy);
    measureRows();
  };
  // A bar reached with the keyboard in a row not drawn yet is focused once it is drawn.
  const pendingFocus = useRef<string | null>(null);
  useLayoutEffect(() => {
    const id = pendingFocus.current;
    if (id === null) return;
    const el = barElement(id);
    if (el) {
      pendingFocus.current = null;
      el.focus();
    }
  });
  const onBarKey = (run: RunMark, e: KeyboardEvent<SVGGElement>) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      e.stopPropagation();
      onOpen(run);
      return;
    }
    const next = nextBar(byRow, rowOf, startOf, run, e.key);
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(e.key)) {
      // Arrows move between bars here; the screen's ← and → pan only when no bar has focus.
      e.preventDefault();
      e.stopPropagation();
      if (next) {
        // The next bar comes from the data: its row is scrolled into view, and the bar (drawn
        // now as the Tab stop, if it was not) focused.
        setTabStop(next.id);
        const row = rowOf.get(next.job_id);
        if (row !== undefined) showRow(row);
        const el = barElement(next.id);
        pendingFocus.current = el ? null : next.id;
        el?.focus();
      }
    }
  };
  // Dragging: the pointer's movement as a fraction of the time axis. `committed` is the last
  // fraction handed to onDrag, `rendered` the one the drawn view is at.
  const drag = useRef<{ x: number; pointer: number; moved: boolean; fraction: number; committed: number; rendered: number } | null>(null);
  const placePan = () => {
    const d = drag.current;
    const g = panRef.current;
    if (!g) return;
    if (d?.moved) g.setAttribute("transform", `translate(${(d.fraction - d.rendered) * (WIDTH - LABEL)} 0)`);
    else g.removeAttribute("transform");
  };
  // After every render the group is placed again: the view drawn may have moved under it.
  useLayoutEffect(() => {
    const d = drag.current;
    if (d) d.rendered = d.committed;
    placePan();
  });
  const suppressClick = useRef(false);
  const onPointerDown = (e: PointerEvent<SVGSVGElement>) => {
    if (e.button !== 0 || !onDrag) return;
    drag.current = { x: e.clientX, pointer: e.pointerId, moved: false, fraction: 0, committed: 0, rendered: 0 };
    suppressClick.current = false;
  };
  const onPointerMove = (e: PointerEvent<SVGSVGElement>) => {
    const d = drag.current;
    if (!d || d.pointer !== e.pointerId || !onDrag) return;
    const dx = e.clientX - d.x;
    if (!d.moved) {
      if (Math.abs(dx) < DRAG_SLOP) return;
      d.moved = true;
      onDragStart?.();
      setDragging(true);
      // A pointer the browser no longer knows (it left the window) cannot be captured: the drag
      // goes on without the capture.
      try {
        svgRef.current?.setPointerCapture?.(e.pointerId);
      } catch {
        /* not captured */
      }
    }
    const width = svgRef.current?.getBoundingClientRect().width ?? 0;
    const axis = width > 0 ? (width * (WIDTH - LABEL)) / WIDTH : WIDTH - LABEL;
    d.fraction = dx / axis;
    // Near the edge of what is drawn, the view moves to the pointer (one render); else the
    // drawn group just follows it.
    if (Math.abs(d.fraction - d.committed) > 0.75) {
      d.committed = d.fraction;
      onDrag(d.fraction);
    }
    placePan();
  };
  const onPointerUp = (e: PointerEvent<SVGSVGElement>) => {
    const d = drag.current;
    if (!d || d.pointer !== e.pointerId) return;
    drag.current = null;
    if (d.moved) {
      // The click that ends a drag opens nothing.
      suppressClick.current = true;
      onDrag?.(d.fraction);
      setDragging(false);
      if (svgRef.current?.hasPointerCapture?.(e.pointerId)) svgRef.current.releasePointerCapture(e.pointerId);
    }
  };
  const height = AXIS + Math.max(rows.length, 1) * ROW + 4;
  const x = (t: number) => LABEL + ((Math.min(Math.max(t, dw.from), dw.to) - w.from) / span) * (WIDTH - LABEL);
  const nameOf = (id: string) => names.get(id) ?? "Deleted job";
  const failures = visible.filter(isFailure).length;
  const described = hovered ?? focusedRun ?? null;
  return (
    <div>
      <p className="mb-2 min-h-5 text-sm text-slate-700 dark:text-slate-300" data-testid="timeline-hover" aria-live="polite">
        {described ? (
          runWords(described, nameOf(described.job_id))
        ) : (
          <>
            {visible.length} {visible.length === 1 ? "run" : "runs"}
            {failures > 0 && (
              <span className="font-medium text-red-700 dark:text-red-400" data-testid="timeline-failures">
                {" "}· {failures} failed
              </span>
            )}
            {" "}· {coming.length} to come · hover a bar for its run, click it for its log, drag to pan
          </>
        )}
      </p>
      <svg
        ref={svgRef}
        viewBox={`0 0 ${WIDTH} ${height}`}
        className={`h-auto w-full touch-none select-none ${onDrag ? "cursor-grab active:cursor-grabbing" : ""}`}
        role="group"
        aria-label="Runs on a time axis: arrow keys move between runs, Enter opens a run's log"
        data-testid="timeline-chart"
        data-from={new Date(w.from).toISOString()}
        data-to={new Date(w.to).toISOString()}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onClickCapture={(e) => {
          if (suppressClick.current) {
            suppressClick.current = false;
            e.stopPropagation();
          }
        }}
      >
        {rows.map((job, i) =>
          rowDrawn(i) ? (
            <g key={job.id}>
              {i % 2 === 1 && <rect x={0} y={AXIS + i * ROW} width={WIDTH} height={ROW} className="fill-slate-50 dark:fill-slate-900" />}
              <text x={6} y={AXIS + i * ROW + ROW / 2 + 4} className="fill-slate-700 text-[12px] dark:fill-slate-300" data-testid="timeline-row">
                <title>{job.name}</title>
                {shortName(job.name)}
              </text>
            </g>
          ) : null,
        )}
        <defs>
          <clipPath id={clipId}>
            <rect x={LABEL} y={0} width={WIDTH - LABEL} height={height} />
          </clipPath>
        </defs>
        <g clipPath={`url(#${clipId})`}>
        <g ref={panRef}>
        {gaps.map((gap) => {
          const [gs, ge] = [Date.parse(gap.start), Date.parse(gap.end)];
          if (ge < dw.from || gs > dw.to) return null;
          return (
            <g key={`${gap.start}-${gap.end}`} data-testid="timeline-gap">
              <rect
                x={x(gs)}
                y={AXIS}
                width={Math.max(2, x(ge) - x(gs))}
                height={height - AXIS}
                className="fill-slate-400/25 stroke-slate-400 dark:fill-slate-500/25"
                strokeDasharray="3 3"
              >
                <title>{`${gap.detail ?? gap.label}: ${formatFull(gap.start)} – ${formatFull(gap.end)}`}</title>
              </rect>
              <text x={x(gs) + 4} y={AXIS + 12} className="fill-slate-600 text-[11px] italic dark:fill-slate-300">
                {gap.label}
              </text>
            </g>
          );
        })}
        {ticks(zoom, dw).map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={AXIS - 4} y2={height} className="stroke-slate-200 dark:stroke-slate-800" />
            {/* A label running into "now" (drawn left of its line) or cut by the right edge is left out. */}
            {(t <= now ? x(now) - x(t) > 90 : x(t) - x(now) > 8) && WIDTH - x(t) > 50 && (
              <text x={x(t) + 3} y={AXIS - 8} className="fill-slate-500 text-[11px] dark:fill-slate-400" data-testid="timeline-tick">
                {tickLabel(zoom, t)}
              </text>
            )}
          </g>
        ))}
        <g
          onMouseOver={(e) => {
            const run = barRun(e);
            if (run) setHovered(run);
          }}
          onMouseOut={(e) => {
            const run = barRun(e);
            if (run) setHovered((h) => (h?.id === run.id ? null : h));
          }}
          onFocus={(e) => {
            const run = barRun(e);
            if (!run) return;
            setFocused(run.id);
            setTabStop(run.id);
          }}
          onBlur={(e) => {
            const run = barRun(e);
            if (run) setFocused((f) => (f === run.id ? null : f));
          }}
          onKeyDown={(e) => {
            const run = barRun(e);
            if (run) onBarKey(run, e);
          }}
          onClick={(e) => {
            const run = barRun(e);
            if (run) onOpen(run);
          }}
        >
        {bars.map((run) => {
          const row = rowOf.get(run.job_id);
          if (row === undefined) return null;
          const start = startOf(run);
          const end = endOf(run);
          const failed = isFailure(run);
          const barHeight = failed ? ROW - 4 : ROW - 10;
          const left = x(start);
          const words = runWords(run, nameOf(run.job_id));
          return (
            <rect
              key={run.id}
              x={left}
              y={AXIS + row * ROW + (ROW - barHeight) / 2}
              width={Math.max(failed ? 4 : 3, x(end) - left)}
              height={barHeight}
              rx={1}
              role="button"
              tabIndex={run.id === stop ? 0 : -1}
              aria-label={words}
              className={`cursor-pointer outline-none ${statusFill[run.status]} ${hovered?.id === run.id ? "stroke-slate-900 dark:stroke-white" : ""}`}
              data-testid="timeline-bar"
              data-run-id={run.id}
              data-status={run.status}
              data-focused={focused === run.id || undefined}
            />
          );
        })}
        </g>
        {focused !== null &&
          (() => {
            // The focus ring: drawn around the focused bar, wide enough to see on a thin one.
            const run = focusedRun;
            const row = focusedRow;
            if (!run || row === undefined) return null;
            const left = x(startOf(run));
            const width = Math.max(4, x(endOf(run)) - left);
            return (
              <rect
                x={left - 3}
                y={AXIS + row * ROW + 1}
                width={width + 6}
                height={ROW - 2}
                rx={3}
                className="pointer-events-none fill-none stroke-sky-600 dark:stroke-sky-400"
                strokeWidth={2}
                data-testid="timeline-focus-ring"
              />
            );
          })()}
        {comingDrawn.map((fire) => {
          const row = rowOf.get(fire.job_id);
          if (!rowDrawn(row)) return null;
          const cx = x(Date.parse(fire.at));
          const cy = AXIS + row * ROW + ROW / 2;
          return (
            <path
              key={`${fire.job_id}-${fire.at}`}
              d={`M ${cx} ${cy - 5} L ${cx + 5} ${cy} L ${cx} ${cy + 5} L ${cx - 5} ${cy} Z`}
              className="fill-white stroke-sky-600 dark:fill-slate-950 dark:stroke-sky-400"
              strokeWidth={1.5}
              data-testid="timeline-upcoming"
            >
              <title>{`${nameOf(fire.job_id)} runs ${formatFull(fire.at)}`}</title>
            </path>
          );
        })}
        {now >= dw.from && now <= dw.to && (
          <g data-testid="timeline-now">
            <line x1={x(now)} x2={x(now)} y1={AXIS - 4} y2={height} className="stroke-sky-600 dark:stroke-sky-400" strokeWidth={1.5} />
            <text x={x(now) - 3} y={AXIS - 8} textAnchor="end" className="fill-sky-700 text-[11px] font-semibold dark:fill-sky-300">
              now
            </text>
          </g>
        )}
        </g>
        </g>
        {rows.length === 0 && (
          <text x={LABEL} y={AXIS + 16} className="fill-slate-500 text-[12px]">
            Nothing ran or is due in this window.
          </text>
        )}
      </svg>
    </div>
  );
}
