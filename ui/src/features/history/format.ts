import type { Run } from "../../bindings/Run";
import type { RunOverrides } from "../../bindings/RunOverrides";
import type { RunReason } from "../../bindings/RunReason";
import type { RunStatus } from "../../bindings/RunStatus";
import { dateFormat } from "../../app/intl";

/** Every status, in the order the filter chips show them. */
export const ALL_STATUSES: RunStatus[] = [
  "succeeded",
  "failed",
  "timed_out",
  "interrupted",
  "running",
  "queued",
  "cancelled",
  "skipped",
];

export const reasonLabel: Record<RunReason, string> = {
  schedule: "Scheduled",
  manual: "Run by hand",
  retry: "Retry",
  catch_up: "Catch-up",
  chain: "After another job",
};

/** A span of time: "245 ms" under a second, "4.2s" under ten, then "42s", "3m 05s", "2h 07m",
 * "3d 4h". A quick run never reads "0s". */
export function formatDuration(ms: number): string {
  const exact = Math.max(0, Math.round(ms));
  if (exact < 1000) return `${exact} ms`;
  if (exact < 10_000) return `${(Math.floor(exact / 100) / 10).toFixed(1)}s`;
  const total = Math.floor(exact / 1000);
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** How long a run took, or has been going (until `now`); null when it has not started. */
export function runDuration(run: Run, now: number): number | null {
  if (!run.started_at) return null;
  const start = Date.parse(run.started_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return Math.max(0, end - start);
}

/** "exit 0", "HTTP 503", or null when the run has neither. */
export function formatResult(run: Run): string | null {
  if (run.http_status !== null) return `HTTP ${run.http_status}`;
  if (run.exit_code !== null) return `exit ${run.exit_code}`;
  return null;
}

/** A full local date and time, for tooltips. */
export function formatFull(iso: string): string {
  return dateFormat({ dateStyle: "medium", timeStyle: "medium" }).format(new Date(iso));
}

/** What a run waits (or waited) for before it started, for tooltips: "Waiting for AC power
 * until …", "Started after waiting for network", "Random delay: starts …"; null when it never
 * waited. */
export function waitNote(run: Run): string | null {
  const what = run.wait.waiting_for === "ac_power" ? "AC power" : run.wait.waiting_for === "network" ? "network" : null;
  if (what === null) {
    return run.status === "queued" && run.wait.start_after !== null ? `Random delay: starts ${formatFull(run.wait.start_after)}` : null;
  }
  if (run.status === "queued") return run.wait.wait_until === null ? `Waiting for ${what}` : `Waiting for ${what} until ${formatFull(run.wait.wait_until)}`;
  return run.started_at === null ? `Waited for ${what}` : `Started after waiting for ${what}`;
}

/** Whether a run can still be cancelled. */
export function isActive(status: RunStatus): boolean {
  return status === "running" || status === "queued";
}

/** "0.84 s · 213 MiB": the CPU time and peak memory of a run's process tree; null when the
 * run was not measured (HTTP runs, runs going, runs from before it was recorded). */
export function formatResources(run: Run): string | null {
  if (run.cpu_ms === null && run.peak_memory_bytes === null) return null;
  const cpu = run.cpu_ms === null ? "—" : `${(run.cpu_ms / 1000).toFixed(2)} s`;
  const bytes = run.peak_memory_bytes;
  const memory =
    bytes === null
      ? "—"
      : bytes >= 2 ** 30
        ? `${(bytes / 2 ** 30).toFixed(1)} GiB`
        : bytes >= 2 ** 20
          ? `${Math.round(bytes / 2 ** 20)} MiB`
          : `${Math.ceil(bytes / 1024)} KiB`;
  return `${cpu} · ${memory}`;
}

/** What a run changed from its job, as history shows it: "with LEVEL=debug, +2 args". Long
 * values are cut in the note (`full` keeps them, for tooltips). */
export function overridesNote(o: RunOverrides | null, full = false): string | null {
  if (!o || (o.env.length === 0 && o.args.length === 0)) return null;
  const cut = (s: string) => (full || s.length <= 24 ? s : `${s.slice(0, 23)}…`);
  const parts = o.env.map((v) => `${v.name}=${cut(v.value)}`);
  if (o.args.length === 1) parts.push(`+ ${cut(o.args[0] ?? "")}`);
  else if (o.args.length > 1) parts.push(full ? `+ ${o.args.join(" ")}` : `+${o.args.length} args`);
  return `with ${parts.join(", ")}`;
}
