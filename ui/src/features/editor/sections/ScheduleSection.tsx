// "Schedule": when the job runs (cron, interval, once, by hand, after another job, at start,
// on wake, when a file arrives), the fields of that trigger, and the live preview beside them.
import { useQuery } from "@tanstack/react-query";
import type { Trigger } from "../../../bindings/Trigger";
import { useBackend } from "../../../ipc";
import { SelectField, TextField } from "../fields";
import { type FormState, fromLocalInput, systemTimeZone, toLocalInput, type TriggerType } from "../form";
import { SchedulePreviewPanel, type useSchedulePreview } from "../preview";
import type { SectionProps } from "../useJobForm";
import { Section } from "./Section";

const TRIGGER_OPTIONS: ReadonlyArray<readonly [TriggerType, string]> = [
  ["cron", "Cron expression"],
  ["interval", "Every (interval)"],
  ["once", "Once"],
  ["manual", "Manual only"],
  ["after_job", "After another job"],
  ["at_start", "When Sundial starts"],
  ["on_wake", "When the computer wakes"],
  ["file_arrives", "When a file arrives"],
];

let zoneList: string[] | null = null;
function timeZones(): string[] {
  zoneList ??= Intl.supportedValuesOf("timeZone");
  return zoneList;
}

export function ScheduleSection({
  form,
  patch,
  jobId,
  trigger,
  preview,
}: SectionProps & {
  /** The job being edited (it cannot run after itself); null for a new job. */
  jobId: string | null;
  /** The form's trigger, and the preview of it. */
  trigger: Trigger;
  preview: ReturnType<typeof useSchedulePreview>;
}) {
  const backend = useBackend();
  const jobs = useQuery({ queryKey: ["jobs"], queryFn: () => backend.listJobs(), enabled: form.triggerType === "after_job" });
  const patchTrigger = (changes: Partial<FormState>) => patch(changes, "trigger");
  const upstreamJobs = (jobs.data ?? []).filter((s) => s.job.id !== jobId);
  const upstreamName = upstreamJobs.find((s) => s.job.id === form.afterJobId)?.job.name ?? null;
  const zone = systemTimeZone();
  const zoneOptions: Array<readonly [string, string]> = [
    ["", `This computer's zone, whatever it is (now ${zone})`],
    ...[...new Set([zone, ...(form.timezone ? [form.timezone] : []), ...timeZones()])].map((z) => [z, z] as const),
  ];
  return (
    <Section title="Schedule">
      <div className="grid gap-4 md:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
        <div className="space-y-3">
          <SelectField
            label="Runs"
            path={form.triggerType === "after_job" ? "trigger.type" : "trigger"}
            value={form.triggerType}
            options={TRIGGER_OPTIONS}
            testId="editor-trigger-type"
            onChange={(triggerType) => patchTrigger({ triggerType })}
          />
          {form.triggerType === "cron" && (
            <>
              <TextField
                label="Cron expression"
                path="trigger.expr"
                value={form.cronExpr}
                mono
                testId="editor-cron"
                placeholder="0 9 * * 1-5"
                hint="Minute hour day-of-month month day-of-week (a sixth leading field is seconds), or @daily, @hourly…"
                onChange={(cronExpr) => patchTrigger({ cronExpr })}
              />
              <SelectField
                label="Time zone"
                path="trigger.timezone"
                value={form.timezone ?? ""}
                options={zoneOptions}
                testId="editor-timezone"
                onChange={(tz) => patchTrigger({ timezone: tz === "" ? null : tz })}
              />
            </>
          )}
          {form.triggerType === "interval" && (
            <>
              <div className="flex gap-3">
                <TextField
                  label="Every"
                  path="trigger.every"
                  type="number"
                  inputMode="numeric"
                  className="w-28"
                  value={form.every}
                  testId="editor-every"
                  onChange={(every) => patchTrigger({ every })}
                />
                <SelectField
                  label="Unit"
                  path="trigger.unit"
                  className="w-36"
                  value={form.unit}
                  options={[
                    ["seconds", "seconds"],
                    ["minutes", "minutes"],
                    ["hours", "hours"],
                  ]}
                  onChange={(unit) => patchTrigger({ unit })}
                />
              </div>
              <TextField
                label="Starting at (optional)"
                path="trigger.anchor"
                type="datetime-local"
                value={toLocalInput(form.anchor)}
                hint={`Runs fall on this time plus whole intervals; in this computer's zone (${zone}). Empty: counted from when the job is saved.`}
                onChange={(v) => patchTrigger({ anchor: v === "" ? null : fromLocalInput(v) })}
              />
            </>
          )}
          {(form.triggerType === "at_start" || form.triggerType === "on_wake") && (
            <TextField
              label="Delay (seconds)"
              path="trigger.delay_secs"
              type="number"
              inputMode="numeric"
              className="w-40"
              value={form.eventDelay}
              testId="editor-event-delay"
              hint={
                form.triggerType === "at_start"
                  ? "After Sundial starts (at login, with start-at-login on), wait this long; 0 to 86400."
                  : "After the computer wakes from sleep, wait this long (e.g. for the network); 0 to 86400."
              }
              onChange={(eventDelay) => patchTrigger({ eventDelay })}
            />
          )}
          {form.triggerType === "file_arrives" && (
            <div className="flex flex-wrap gap-3">
              <TextField
                label="Folder"
                path="trigger.folder"
                className="min-w-64 flex-1"
                value={form.watchFolder}
                testId="editor-watch-folder"
                hint="The full path of a folder that exists; its subfolders are not watched."
                onChange={(watchFolder) => patchTrigger({ watchFolder })}
              />
              <TextField
                label="File names"
                path="trigger.glob"
                className="w-40"
                value={form.watchGlob}
                testId="editor-watch-glob"
                hint="A pattern such as *.csv (* for every file; hidden files need a leading dot)."
                onChange={(watchGlob) => patchTrigger({ watchGlob })}
              />
              <TextField
                label="Settle (seconds)"
                path="trigger.settle_secs"
                type="number"
                inputMode="numeric"
                className="w-40"
                value={form.settle}
                testId="editor-watch-settle"
                hint="A file runs once it has not changed for this long; 1 to 3600."
                onChange={(settle) => patchTrigger({ settle })}
              />
            </div>
          )}
          {form.triggerType === "once" && (
            <TextField
              label="At"
              path="trigger.at"
              type="datetime-local"
              value={toLocalInput(form.onceAt)}
              testId="editor-once-at"
              hint={`In this computer's time zone (${zone}).`}
              onChange={(v) => patchTrigger({ onceAt: fromLocalInput(v) })}
            />
          )}
          {form.triggerType === "after_job" && (
            <div className="flex flex-wrap gap-3">
              <SelectField
                label="After job"
                path="trigger"
                className="min-w-48 flex-1"
                value={form.afterJobId}
                testId="editor-after-job"
                options={[
                  ["", jobs.isPending ? "Loading jobs…" : "Choose a job…"],
                  ...upstreamJobs.map((s) => [s.job.id, s.job.name] as const),
                  ...(form.afterJobId !== "" && !upstreamJobs.some((s) => s.job.id === form.afterJobId) && !jobs.isPending
                    ? [[form.afterJobId, `Unknown job (${form.afterJobId})`] as const]
                    : []),
                ]}
                onChange={(afterJobId) => patchTrigger({ afterJobId })}
              />
              <SelectField
                label="When it"
                path="trigger.on"
                className="w-48"
                value={form.chainOn}
                options={[
                  ["success", "succeeds"],
                  ["failure", "fails"],
                  ["any", "finishes (either way)"],
                ]}
                onChange={(chainOn) => patchTrigger({ chainOn })}
              />
            </div>
          )}
        </div>
        <SchedulePreviewPanel trigger={trigger} preview={preview} upstreamName={upstreamName} />
      </div>
    </Section>
  );
}
