// "Runs" (under More options): timeout, overlap, retries, missed runs and notifications.
import { SelectField, TextField } from "../fields";
import type { SectionProps } from "../useJobForm";
import { Section } from "./Section";

export function RunsSection({ form, patch }: SectionProps) {
  return (
    <Section title="Runs">
      <div className="grid gap-3 sm:grid-cols-2">
        <TextField
          label="Timeout (seconds)"
          path="policies.timeout_secs"
          type="number"
          inputMode="numeric"
          value={form.timeout}
          placeholder="No limit"
          hint="Empty: no limit. A run still going then is stopped with its processes."
          onChange={(timeout) => patch({ timeout }, "policies.timeout_secs")}
        />
        <SelectField
          label="If the previous run is still going"
          path="policies.overlap"
          value={form.overlap}
          options={[
            ["skip", "Skip this run"],
            ["queue_one", "Queue one run after it"],
            ["replace", "Stop it and start this one"],
            ["allow", "Run both at once"],
          ]}
          onChange={(overlap) => patch({ overlap }, "policies.overlap")}
        />
      </div>
      <fieldset className="grid gap-3 sm:grid-cols-4">
        <legend className="mb-1 text-sm font-medium text-slate-700 sm:col-span-4 dark:text-slate-200">Retries</legend>
        <TextField
          label="Attempts"
          path="policies.retry.max_attempts"
          type="number"
          inputMode="numeric"
          value={form.maxAttempts}
          hint="1 = no retry"
          onChange={(maxAttempts) => patch({ maxAttempts }, "policies.retry.max_attempts")}
        />
        <TextField
          label="First delay (s)"
          path="policies.retry.initial_delay_secs"
          type="number"
          inputMode="numeric"
          value={form.initialDelay}
          onChange={(initialDelay) => patch({ initialDelay }, "policies.retry.initial_delay_secs")}
        />
        <TextField
          label="Multiplier"
          path="policies.retry.multiplier"
          type="number"
          inputMode="decimal"
          value={form.multiplier}
          hint="Each retry waits this many times longer"
          onChange={(multiplier) => patch({ multiplier }, "policies.retry.multiplier")}
        />
        <TextField
          label="Longest delay (s)"
          path="policies.retry.max_delay_secs"
          type="number"
          inputMode="numeric"
          value={form.maxDelay}
          onChange={(maxDelay) => patch({ maxDelay }, "policies.retry.max_delay_secs")}
        />
      </fieldset>
      <fieldset className="grid gap-3 sm:grid-cols-3">
        <legend className="mb-1 text-sm font-medium text-slate-700 sm:col-span-3 dark:text-slate-200">Runs missed while the computer was off or asleep</legend>
        <SelectField
          label="Missed runs"
          path="policies.missed.mode"
          value={form.missedMode}
          options={[
            ["run_once", "Run once to catch up"],
            ["run_all", "Run each missed one"],
            ["skip", "Skip them"],
          ]}
          onChange={(missedMode) => patch({ missedMode }, "policies.missed.mode")}
        />
        <TextField
          label="Catch up at most"
          path="policies.missed.max_catch_up"
          type="number"
          inputMode="numeric"
          value={form.maxCatchUp}
          hint="When running each missed one: the most recent ones"
          onChange={(maxCatchUp) => patch({ maxCatchUp }, "policies.missed.max_catch_up")}
        />
        <TextField
          label="Grace (seconds)"
          path="policies.missed.grace_secs"
          type="number"
          inputMode="numeric"
          value={form.grace}
          hint="A run at most this late still counts as on time"
          onChange={(grace) => patch({ grace }, "policies.missed.grace_secs")}
        />
      </fieldset>
      <SelectField
        label="Notify me"
        path="policies.notify"
        className="max-w-xs"
        value={form.notify}
        options={[
          ["on_failure", "When a run fails"],
          ["always", "After every run"],
          ["never", "Never"],
        ]}
        onChange={(notify) => patch({ notify }, "policies.notify")}
      />
    </Section>
  );
}
