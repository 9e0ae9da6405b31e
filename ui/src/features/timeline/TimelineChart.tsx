// Runs across jobs on one time axis: a row per job, a bar per run coloured by status (a
// failure is a full-height red bar), the firings to come after "now" as hollow marks, and the
// gaps when Sundial was asleep or closed shaded and labelled. Plain SVG: a week of 200 jobs
// is a few thousand rects.
import { useState } from "react";
import type { RunMark } from "../../bindings/RunMark";
import type { UpcomingFire } from "../../bindings/UpcomingFire";
import { formatDuration, formatFull } from "../history/format";
import { statusFill, statusLabel } from "../jobs/format";
import { durationOf } from "../overview/stats";
import { type TimeWindow, type Zoom, tickLabel, ticks } from "./scale";

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

function isFailure(run: RunMark): boolean {
  return run.status === "failed" || run.status === "timed_out" || run.status === "interrupted";
}

function runWords(run: RunMark, jobName: string): string {
  const ms = durationOf(run);
  return [jobName, statusLabel[run.status], formatFull(run.started_at ?? run.scheduled_for), ms === null ? null : formatDuration(ms)]
    .filter((p) => p !== null)
    .join(" · ");
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
}: {
  jobs: TimelineJob[];
  runs: RunMark[];
  upcoming: UpcomingFire[];
  gaps: Gap[];
  window: TimeWindow;
  zoom: Zoom;
  now: number;
  onOpen: (run: RunMark) => void;
}) {
  const [hovered, setHovered] = useState<RunMark | null>(null);
  const names = new Map(jobs.map((j) => [j.id, j.name]));
  // A row for every job with something in the window, by name.
  const shown = new Set([...runs.map((r) => r.job_id), ...upcoming.map((u) => u.job_id)]);
  const rows = jobs.filter((j) => shown.has(j.id)).sort((a, b) => a.name.localeCompare(b.name));
  const rowOf = new Map(rows.map((j, i) => [j.id, i]));
  const height = AXIS + Math.max(rows.length, 1) * ROW + 4;
  const span = w.to - w.from;
  const x = (t: number) => LABEL + ((Math.min(Math.max(t, w.from), w.to) - w.from) / span) * (WIDTH - LABEL);
  const nameOf = (id: string) => names.get(id) ?? "Deleted job";
  const failures = runs.filter(isFailure).length;
  return (
    <div>
      <p className="mb-2 min-h-5 text-sm text-slate-700 dark:text-slate-300" data-testid="timeline-hover" aria-live="polite">
        {hovered ? (
          runWords(hovered, nameOf(hovered.job_id))
        ) : (
          <>
            {runs.length} {runs.length === 1 ? "run" : "runs"}
            {failures > 0 && (
              <span className="font-medium text-red-700 dark:text-red-400" data-testid="timeline-failures">
                {" "}· {failures} failed
              </span>
            )}
            {" "}· {upcoming.length} to come · hover a bar for its run, click it for its log
          </>
        )}
      </p>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} className="h-auto w-full select-none" role="img" aria-label="Runs on a time axis" data-testid="timeline-chart">
        {rows.map((job, i) => (
          <g key={job.id}>
            {i % 2 === 1 && <rect x={0} y={AXIS + i * ROW} width={WIDTH} height={ROW} className="fill-slate-50 dark:fill-slate-900" />}
            <text x={6} y={AXIS + i * ROW + ROW / 2 + 4} className="fill-slate-700 text-[12px] dark:fill-slate-300" data-testid="timeline-row">
              <title>{job.name}</title>
              {shortName(job.name)}
            </text>
          </g>
        ))}
        {gaps.map((gap) => {
          const [gs, ge] = [Date.parse(gap.start), Date.parse(gap.end)];
          if (ge < w.from || gs > w.to) return null;
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
        {ticks(zoom, w).map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={AXIS - 4} y2={height} className="stroke-slate-200 dark:stroke-slate-800" />
            {/* A label too near "now" or the right edge would be overdrawn or cut. */}
            {Math.abs(x(t) - x(now)) > 40 && WIDTH - x(t) > 50 && (
              <text x={x(t) + 3} y={AXIS - 8} className="fill-slate-500 text-[11px] dark:fill-slate-400" data-testid="timeline-tick">
                {tickLabel(zoom, t)}
              </text>
            )}
          </g>
        ))}
        {runs.map((run) => {
          const row = rowOf.get(run.job_id);
          if (row === undefined) return null;
          const start = Date.parse(run.started_at ?? run.scheduled_for);
          const end = run.finished_at ? Date.parse(run.finished_at) : Math.max(start, now);
          const failed = isFailure(run);
          const barHeight = failed ? ROW - 4 : ROW - 10;
          const left = x(start);
          return (
            <rect
              key={run.id}
              x={left}
              y={AXIS + row * ROW + (ROW - barHeight) / 2}
              width={Math.max(failed ? 4 : 3, x(end) - left)}
              height={barHeight}
              rx={1}
              className={`cursor-pointer ${statusFill[run.status]} ${hovered?.id === run.id ? "stroke-slate-900 dark:stroke-white" : ""}`}
              data-testid="timeline-bar"
              data-run-id={run.id}
              data-status={run.status}
              onMouseEnter={() => setHovered(run)}
              onMouseLeave={() => setHovered((h) => (h?.id === run.id ? null : h))}
              onClick={() => onOpen(run)}
            >
              <title>{runWords(run, nameOf(run.job_id))}</title>
            </rect>
          );
        })}
        {upcoming.map((fire) => {
          const row = rowOf.get(fire.job_id);
          if (row === undefined) return null;
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
        {now >= w.from && now <= w.to && (
          <g data-testid="timeline-now">
            <line x1={x(now)} x2={x(now)} y1={AXIS - 4} y2={height} className="stroke-sky-600 dark:stroke-sky-400" strokeWidth={1.5} />
            <text x={x(now) - 3} y={AXIS - 8} textAnchor="end" className="fill-sky-700 text-[11px] font-semibold dark:fill-sky-300">
              now
            </text>
          </g>
        )}
        {rows.length === 0 && (
          <text x={LABEL} y={AXIS + 16} className="fill-slate-500 text-[12px]">
            Nothing ran or is due in this window.
          </text>
        )}
      </svg>
    </div>
  );
}
