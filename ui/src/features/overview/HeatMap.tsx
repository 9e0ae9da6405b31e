// A calendar of days × outcome: a square per day (weeks as columns, Monday on top), green
// deeper with more runs, orange to red as more of the day's runs failed, from the engine's
// per-day counts (one grouped query, not the runs).
import { useQuery } from "@tanstack/react-query";
import type { DayOutcomes } from "../../bindings/DayOutcomes";
import { BackendError, useBackend } from "../../ipc";
import { dateFormat } from "../../app/intl";

const CELL = 12;
const GAP = 3;
const TOP = 16;
const LEFT = 28;

/** A local calendar day as the engine names it: YYYY-MM-DD. */
export function dayKey(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** The first day drawn: the Monday `weeks - 1` weeks before this week's. */
export function firstDay(today: Date, weeks: number): Date {
  const d = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  const sinceMonday = (d.getDay() + 6) % 7;
  d.setDate(d.getDate() - sinceMonday - 7 * (weeks - 1));
  return d;
}

export type DayTone = "none" | "ok1" | "ok2" | "ok3" | "some-failed" | "many-failed" | "all-failed";

/** The shade of a day: how many runs (against the busiest day) or how many of them failed. */
export function dayTone(day: DayOutcomes | undefined, busiest: number): DayTone {
  if (!day || day.runs === 0) return "none";
  if (day.failed > 0) {
    const share = day.failed / day.runs;
    return share >= 0.999 ? "all-failed" : share >= 0.25 ? "many-failed" : "some-failed";
  }
  const level = day.runs / Math.max(busiest, 1);
  return level > 0.66 ? "ok3" : level > 0.33 ? "ok2" : "ok1";
}

const toneClass: Record<DayTone, string> = {
  none: "fill-slate-100 dark:fill-slate-800",
  ok1: "fill-emerald-200 dark:fill-emerald-900",
  ok2: "fill-emerald-400 dark:fill-emerald-700",
  ok3: "fill-emerald-600 dark:fill-emerald-500",
  "some-failed": "fill-amber-400",
  "many-failed": "fill-red-500",
  "all-failed": "fill-red-700",
};

function dayWords(date: Date, day: DayOutcomes | undefined): string {
  const when = dateFormat({ weekday: "short", day: "numeric", month: "short", year: "numeric" }).format(date);
  if (!day || day.runs === 0) return `${when}: no runs`;
  const failed = day.failed > 0 ? `, ${day.failed} failed` : "";
  return `${when}: ${day.runs} ${day.runs === 1 ? "run" : "runs"}${failed}`;
}

export function HeatMap({ jobId, weeks, today = new Date() }: { jobId: string | null; weeks: number; today?: Date }) {
  const backend = useBackend();
  const start = firstDay(today, weeks);
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
  const days = useQuery({
    queryKey: ["daily-outcomes", jobId, dayKey(start), dayKey(end)],
    queryFn: () => backend.dailyOutcomes(jobId, start.toISOString(), end.toISOString()),
  });
  if (days.error) {
    return <p className="text-sm text-red-700 dark:text-red-400">Could not load the calendar: {BackendError.from(days.error).message}</p>;
  }
  const byDay = new Map((days.data ?? []).map((d) => [d.day, d]));
  const busiest = Math.max(0, ...(days.data ?? []).map((d) => d.runs));
  const totals = (days.data ?? []).reduce((t, d) => ({ runs: t.runs + d.runs, failed: t.failed + d.failed, bad: t.bad + (d.failed > 0 ? 1 : 0) }), { runs: 0, failed: 0, bad: 0 });
  const cells: Array<{ date: Date; week: number; weekday: number }> = [];
  for (let d = new Date(start), i = 0; d < end; d.setDate(d.getDate() + 1), i++) {
    cells.push({ date: new Date(d), week: Math.floor(i / 7), weekday: i % 7 });
  }
  const width = LEFT + weeks * (CELL + GAP);
  const height = TOP + 7 * (CELL + GAP);
  const months = cells.filter((c) => c.weekday === 0 && c.date.getDate() <= 7);
  return (
    <div>
      <p className="mb-1 text-sm text-slate-700 dark:text-slate-300" data-testid="heatmap-summary">
        {days.data
          ? `${totals.runs} ${totals.runs === 1 ? "run" : "runs"} in ${weeks} weeks · ${totals.failed} failed, on ${totals.bad} ${totals.bad === 1 ? "day" : "days"}`
          : "Counting the runs of each day…"}
      </p>
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} className="max-w-full" role="img" aria-label="Runs and failures per day" data-testid="heatmap" data-state={days.data ? "loaded" : "loading"}>
        {months.map((c) => (
          <text key={dayKey(c.date)} x={LEFT + c.week * (CELL + GAP)} y={10} className="fill-slate-500 text-[10px] dark:fill-slate-400">
            {dateFormat({ month: "short" }).format(c.date)}
          </text>
        ))}
        {["Mon", "Wed", "Fri"].map((label, i) => (
          <text key={label} x={0} y={TOP + i * 2 * (CELL + GAP) + CELL - 2} className="fill-slate-500 text-[10px] dark:fill-slate-400">
            {label}
          </text>
        ))}
        {cells.map(({ date, week, weekday }) => {
          const key = dayKey(date);
          const day = byDay.get(key);
          const tone = dayTone(day, busiest);
          return (
            <rect
              key={key}
              x={LEFT + week * (CELL + GAP)}
              y={TOP + weekday * (CELL + GAP)}
              width={CELL}
              height={CELL}
              rx={2}
              className={toneClass[tone]}
              data-testid="heatmap-day"
              data-day={key}
              data-tone={tone}
            >
              <title>{dayWords(date, day)}</title>
            </rect>
          );
        })}
      </svg>
      <p className="mt-1 flex flex-wrap items-center gap-3 text-xs text-slate-500 dark:text-slate-400" aria-hidden="true">
        <span><span className="mr-1 inline-block size-2.5 rounded-sm bg-slate-100 dark:bg-slate-800" />no runs</span>
        <span>
          <span className="inline-block size-2.5 rounded-sm bg-emerald-200" />
          <span className="inline-block size-2.5 rounded-sm bg-emerald-400" />
          <span className="mr-1 inline-block size-2.5 rounded-sm bg-emerald-600" />all succeeded (darker: more runs)
        </span>
        <span><span className="mr-1 inline-block size-2.5 rounded-sm bg-amber-400" />some failed</span>
        <span><span className="mr-1 inline-block size-2.5 rounded-sm bg-red-500" />a quarter or more failed</span>
        <span><span className="mr-1 inline-block size-2.5 rounded-sm bg-red-700" />all failed</span>
      </p>
    </div>
  );
}
