import type { Run } from "../../bindings/Run";
import type { RunStatus } from "../../bindings/RunStatus";
import { dateFormat } from "../../app/intl";

/** A fire time for the list: time only today, weekday and date otherwise, in local time. */
export function formatWhen(iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  const time = dateFormat({ hour: "numeric", minute: "2-digit" }).format(at);
  if (at.toDateString() === now.toDateString()) return `Today ${time}`;
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  if (at.toDateString() === tomorrow.toDateString()) return `Tomorrow ${time}`;
  const date = dateFormat({
    weekday: "short",
    day: "numeric",
    month: "short",
    ...(at.getFullYear() === now.getFullYear() ? {} : { year: "numeric" }),
  }).format(at);
  return `${date} ${time}`;
}

export const statusLabel: Record<RunStatus, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  timed_out: "Timed out",
  cancelled: "Cancelled",
  skipped: "Skipped",
  interrupted: "Interrupted",
};

/** A run's status in words; a queued run says what it waits for: its job's conditions
 * ("Waiting for AC power", "Waiting for network") or its random delay. */
export function runStatusLabel(run: Pick<Run, "status" | "wait">, now: number = Date.now()): string {
  if (run.status === "queued") {
    if (run.wait.waiting_for === "ac_power") return "Waiting for AC power";
    if (run.wait.waiting_for === "network") return "Waiting for network";
    if (run.wait.start_after !== null && Date.parse(run.wait.start_after) > now) return "Random delay";
  }
  return statusLabel[run.status];
}

/** Colour and icon per status, so a failure stands out without reading. */
export const statusStyle: Record<RunStatus, { icon: string; className: string }> = {
  queued: { icon: "◷", className: "text-slate-600 dark:text-slate-300" },
  running: { icon: "▶", className: "text-sky-700 dark:text-sky-300" },
  succeeded: { icon: "✓", className: "text-emerald-700 dark:text-emerald-400" },
  failed: { icon: "✕", className: "text-red-700 dark:text-red-400" },
  timed_out: { icon: "◔", className: "text-red-700 dark:text-red-400" },
  cancelled: { icon: "■", className: "text-amber-700 dark:text-amber-400" },
  skipped: { icon: "↷", className: "text-slate-500 dark:text-slate-400" },
  interrupted: { icon: "!", className: "text-red-700 dark:text-red-400" },
};

/** The fill of a status in pictures (strips, bars, squares): failures red, going blue. */
export const statusFill: Record<RunStatus, string> = {
  queued: "fill-slate-400 bg-slate-400",
  running: "fill-sky-500 bg-sky-500",
  succeeded: "fill-emerald-500 bg-emerald-500",
  failed: "fill-red-600 bg-red-600",
  timed_out: "fill-red-600 bg-red-600",
  cancelled: "fill-amber-500 bg-amber-500",
  skipped: "fill-slate-300 bg-slate-300 dark:fill-slate-600 dark:bg-slate-600",
  interrupted: "fill-red-600 bg-red-600",
};
