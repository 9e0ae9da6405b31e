// A strip of runs, oldest left, one coloured cell each: a failure shows red at a glance, and
// each cell opens its run's log.
import { formatDuration, formatFull } from "../history/format";
import { statusFill, statusLabel } from "../jobs/format";
import { durationOf, type RunLike } from "./stats";

/** "Succeeded · 2 Dec 2026, 12:19:44 · 245 ms": what a strip cell says on hover. */
export function runTooltip(run: RunLike): string {
  const ms = durationOf(run);
  const when = formatFull(run.started_at ?? run.scheduled_for);
  return [statusLabel[run.status], when, ms === null ? null : formatDuration(ms)].filter((p) => p !== null).join(" · ");
}

export function RunStrip({
  runs,
  onOpen,
  size = "large",
  label,
}: {
  /** Oldest first. */
  runs: RunLike[];
  onOpen: (run: RunLike) => void;
  size?: "large" | "small";
  label: string;
}) {
  // Cells share the width (up to their own size), so 50 runs fit any card.
  const cell = size === "large" ? "h-7 w-full" : "h-4 w-full";
  const item = size === "large" ? "max-w-3.5 min-w-1" : "max-w-1.5 min-w-px";
  return (
    <ol aria-label={label} className={`flex items-end ${size === "large" ? "gap-1" : "gap-px"}`} data-testid="run-strip">
      {runs.map((run) => (
        <li key={run.id} className={`flex flex-1 ${item}`}>
          <button
            type="button"
            onClick={() => onOpen(run)}
            title={runTooltip(run)}
            aria-label={`${runTooltip(run)}: open its log`}
            data-testid="strip-run"
            data-run-id={run.id}
            data-status={run.status}
            className={`${cell} rounded-sm ${statusFill[run.status]} hover:opacity-75 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-600 ${run.status === "running" ? "animate-pulse" : ""}`}
          />
        </li>
      ))}
    </ol>
  );
}
