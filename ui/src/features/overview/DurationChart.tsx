// How long recent runs took, as bars on one scale (oldest left), with the median drawn across
// and runs slower than twice the median marked: a job getting slower shows before it times out.
import { formatDuration } from "../history/format";
import { runTooltip } from "./RunStrip";
import { durationOf, isSlow, median, type RunLike } from "./stats";

const WIDTH = 1000;
const HEIGHT = 150;
const LEFT = 56;
const TOP = 12;
const BOTTOM = 18;

export function DurationChart({ runs, onOpen }: { runs: RunLike[]; onOpen: (run: RunLike) => void }) {
  const timed = runs.flatMap((run) => {
    const ms = durationOf(run);
    return ms === null ? [] : [{ run, ms }];
  });
  if (timed.length === 0) {
    return <p className="text-sm text-slate-600 dark:text-slate-300">No finished run yet.</p>;
  }
  const med = median(timed.map((t) => t.ms)) ?? 0;
  const max = Math.max(...timed.map((t) => t.ms), 1);
  const plot = HEIGHT - TOP - BOTTOM;
  const y = (ms: number) => TOP + plot - (ms / max) * plot;
  const slot = (WIDTH - LEFT) / Math.max(timed.length, 20);
  const barWidth = Math.max(2, Math.min(24, slot * 0.7));
  const slow = timed.filter((t) => isSlow(t.ms, med));
  return (
    <div>
      <p className="mb-1 text-sm text-slate-700 dark:text-slate-300" data-testid="duration-summary">
        Median <strong className="tabular-nums">{formatDuration(med)}</strong> over the last {timed.length}{" "}
        {timed.length === 1 ? "run" : "runs"}
        {slow.length > 0 ? (
          <>
            {" · "}
            <span className="font-medium text-amber-700 dark:text-amber-400">
              {slow.length} slow {slow.length === 1 ? "run" : "runs"} (over twice the median)
            </span>
          </>
        ) : (
          " · none slow"
        )}
      </p>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        className="h-auto w-full overflow-visible"
        role="img"
        aria-label={`Durations of the last ${timed.length} runs; median ${formatDuration(med)}`}
        data-testid="duration-chart"
      >
        <line x1={LEFT} x2={WIDTH} y1={y(0)} y2={y(0)} className="stroke-slate-300 dark:stroke-slate-600" />
        {y(med) - y(max) > 16 && (
          <text x={LEFT - 6} y={y(max) + 4} textAnchor="end" className="fill-slate-500 text-[11px] tabular-nums dark:fill-slate-400">
            {formatDuration(max)}
          </text>
        )}
        {y(0) - y(med) > 16 && (
          <text x={LEFT - 6} y={y(0) + 4} textAnchor="end" className="fill-slate-500 text-[11px] dark:fill-slate-400">
            0
          </text>
        )}
        {timed.map(({ run, ms }, i) => {
          const isSlowRun = isSlow(ms, med);
          const failed = run.status !== "succeeded";
          const top = Math.min(y(ms), y(0) - 1.5);
          return (
            <rect
              key={run.id}
              x={LEFT + i * slot + (slot - barWidth) / 2}
              y={top}
              width={barWidth}
              height={y(0) - top}
              rx={1.5}
              data-testid="duration-bar"
              data-slow={isSlowRun ? "true" : undefined}
              className={`cursor-pointer hover:opacity-75 ${failed ? "fill-red-600" : isSlowRun ? "fill-amber-500" : "fill-sky-500"}`}
              onClick={() => onOpen(run)}
            >
              <title>{`${runTooltip(run)}${isSlowRun ? " · slow" : ""}`}</title>
            </rect>
          );
        })}
        <line
          x1={LEFT}
          x2={WIDTH}
          y1={y(med)}
          y2={y(med)}
          strokeDasharray="6 4"
          className="stroke-slate-700 dark:stroke-slate-200"
          data-testid="duration-median"
        />
        <text x={LEFT - 6} y={y(med) + 4} textAnchor="end" className="fill-slate-700 text-[11px] font-medium tabular-nums dark:fill-slate-200">
          {formatDuration(med)}
        </text>
      </svg>
      <p className="mt-1 flex gap-4 text-xs text-slate-500 dark:text-slate-400" aria-hidden="true">
        <span><span className="mr-1 inline-block size-2.5 rounded-sm bg-sky-500" />succeeded</span>
        <span><span className="mr-1 inline-block size-2.5 rounded-sm bg-amber-500" />slow (over twice the median)</span>
        <span><span className="mr-1 inline-block size-2.5 rounded-sm bg-red-600" />failed</span>
        <span><span className="mr-1 inline-block h-0 w-4 border-t-2 border-dashed border-slate-700 align-middle dark:border-slate-200" />median</span>
      </p>
    </div>
  );
}
