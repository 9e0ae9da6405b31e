// The live schedule preview: the engine's plain words and next fire times for the trigger being
// typed, debounced, keyed by the trigger so a late answer for an older text never shows.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { ChainOn } from "../../bindings/ChainOn";
import type { DstNote } from "../../bindings/DstNote";
import type { FireTime } from "../../bindings/FireTime";
import type { Trigger } from "../../bindings/Trigger";
import { BackendError, useBackend } from "../../ipc";
import { fixedCronTime, formatInSystemZone, formatLocal } from "./form";

export const PREVIEW_DEBOUNCE_MS = 250;
export const PREVIEW_COUNT = 5;

/** `value` once it has stopped changing for `delay` ms. */
export function useDebounced<T>(value: T, delay: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

/** Whether the engine can be asked about this trigger yet (an empty expression cannot). */
function askable(trigger: Trigger): boolean {
  switch (trigger.type) {
    case "cron":
      return trigger.expr.trim() !== "";
    case "interval":
      return Number.isFinite(trigger.every);
    case "once":
      return trigger.at !== "";
    case "manual":
    case "after_job":
    case "at_start":
    case "on_wake":
    case "file_arrives":
      return false;
  }
}

export function useSchedulePreview(trigger: Trigger) {
  const backend = useBackend();
  const key = useDebounced(JSON.stringify(trigger), PREVIEW_DEBOUNCE_MS);
  const current = JSON.parse(key) as Trigger;
  const enabled = askable(current);
  const query = useQuery({
    queryKey: ["schedule-preview", key],
    queryFn: () => backend.previewTrigger(JSON.parse(key) as Trigger, PREVIEW_COUNT),
    enabled,
    retry: false,
    staleTime: 15_000,
    placeholderData: keepPreviousData,
  });
  const error = enabled && query.error ? BackendError.from(query.error) : null;
  return {
    /** The trigger the shown answer is for. */
    trigger: current,
    /** Typing has not settled, or the engine has not answered yet. */
    pending: key !== JSON.stringify(trigger) || (enabled && query.isFetching),
    data: enabled && !error ? query.data : undefined,
    error,
  };
}

/** The preview's field errors by path; an error without fields belongs to the whole trigger. */
export function previewFieldErrors(error: BackendError | null): Record<string, string> {
  if (!error) return {};
  if (error.fields.length === 0) return { trigger: error.message };
  return Object.fromEntries(error.fields.map((f) => [f.field, f.message]));
}

export function dstWords(note: DstNote, cronExpr: string | null): string {
  switch (note) {
    case "moved_after_gap": {
      const time = cronExpr ? fixedCronTime(cronExpr) : null;
      return time
        ? `moved after the DST gap: ${time} does not exist that day`
        : "moved after the DST gap: the scheduled time does not exist that day";
    }
    case "repeated_first_pass":
      return "the hour repeats (clocks go back): first pass";
    case "repeated_second_pass":
      return "the hour repeats (clocks go back): second pass";
  }
}

const chainWords: Record<ChainOn, string> = { success: "succeeds", failure: "fails", any: "finishes, whatever the result" };

export function FireList({ fires, trigger }: { fires: FireTime[]; trigger: Trigger }) {
  if (fires.length === 0) return <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">It will not run again.</p>;
  const cron = trigger.type === "cron" ? trigger.expr : null;
  return (
    <ol data-testid="schedule-preview" aria-label="Next runs" className="mt-2 space-y-0.5 text-sm tabular-nums">
      {fires.map((fire) => (
        <li key={`${fire.at}-${fire.local}`} data-testid="fire-time" className="text-slate-700 dark:text-slate-200">
          {/* A cron job's times are shown in its own zone; other triggers run on the system's clock. */}
          {cron !== null ? formatLocal(fire.local) : formatInSystemZone(fire.at)}
          {fire.dst && (
            <span className="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-900 dark:bg-amber-900 dark:text-amber-100" data-testid="dst-note">
              {dstWords(fire.dst, cron)}
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}

/** What the preview panel says; `upstreamName` names an after-job trigger's job. */
export function SchedulePreviewPanel({
  trigger,
  preview,
  upstreamName,
}: {
  trigger: Trigger;
  preview: ReturnType<typeof useSchedulePreview>;
  upstreamName: string | null;
}) {
  let description: string;
  let body = null;
  switch (trigger.type) {
    case "manual":
      description = "Runs only when you run it by hand.";
      break;
    case "at_start":
      description = `Runs when Sundial starts${delayWords(trigger.delay_secs)} — at login with start-at-login on, or when the daemon starts. A takeover from another Sundial is not a start.`;
      break;
    case "on_wake":
      description = `Runs each time the computer wakes from sleep${delayWords(trigger.delay_secs)}. A clock set forward is not a wake.`;
      break;
    case "file_arrives": {
      const which = trigger.glob.trim() === "*" || trigger.glob.trim() === "" ? "file" : `file matching ${trigger.glob.trim()}`;
      const folder = trigger.folder.trim() === "" ? "the folder" : trigger.folder.trim();
      const settle = Number.isFinite(trigger.settle_secs) ? trigger.settle_secs : 5;
      description = `Runs once for each new or changed ${which} in ${folder}, after it has not changed for ${settle} ${settle === 1 ? "second" : "seconds"}. The run gets the file's path as $SUNDIAL_TRIGGER_PATH. Files already there when the job is saved are not run.`;
      break;
    }
    case "after_job":
      description =
        trigger.job_id === ""
          ? "Choose the job this one runs after."
          : `Runs after “${upstreamName ?? trigger.job_id}” ${chainWords[trigger.on]}.`;
      break;
    case "cron":
    case "interval":
    case "once":
      if (!askable(trigger)) {
        description =
          trigger.type === "cron"
            ? "Type a cron expression, such as 0 9 * * 1-5 (09:00 on weekdays)."
            : trigger.type === "once"
              ? "Choose when it runs."
              : "Enter how often it runs.";
      } else if (preview.error) {
        description = "No preview: fix the schedule.";
      } else if (preview.data) {
        description = preview.data.description;
        body = <FireList fires={preview.data.fires} trigger={preview.trigger} />;
      } else {
        description = "Working out the next runs…";
      }
      break;
  }
  return (
    <div
      className="rounded-md border border-slate-200 bg-slate-50 p-3 dark:border-slate-700 dark:bg-slate-900"
      aria-live="polite"
      aria-busy={preview.pending}
    >
      <p className="text-sm font-medium text-slate-800 dark:text-slate-100" data-testid="schedule-description">
        {description}
      </p>
      <div className={preview.pending ? "opacity-60" : ""}>{body}</div>
    </div>
  );
}

/** ", 30 s later" for an event trigger's delay ("" for none, or one not yet a number). */
function delayWords(secs: number): string {
  if (!Number.isFinite(secs) || secs <= 0) return "";
  if (secs % 3600 === 0) return `, ${secs / 3600} h later`;
  if (secs % 60 === 0) return `, ${secs / 60} min later`;
  return `, ${secs} s later`;
}
