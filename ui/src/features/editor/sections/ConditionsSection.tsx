// "Conditions" (under More options): start only on AC power or with the network up, how long a
// firing waits for that and what it does then, and a random delay (decisions/0019).
import { Checkbox, SelectField, TextField } from "../fields";
import type { SectionProps } from "../useJobForm";
import { Section } from "./Section";

export function ConditionsSection({ form, patch }: SectionProps) {
  const waits = form.acPower || form.network;
  return (
    <Section title="Conditions">
      <div className="flex flex-col gap-2" data-testid="editor-conditions">
        <Checkbox
          label="Only on AC power"
          hint="On battery, a run waits until the computer is plugged in."
          checked={form.acPower}
          onChange={(acPower) => patch({ acPower }, "policies.conditions.ac_power")}
        />
        <Checkbox
          label="Only when the network is up"
          hint="Offline, a run waits until a network connection is back."
          checked={form.network}
          onChange={(network) => patch({ network }, "policies.conditions.network")}
        />
      </div>
      {waits && (
        <div className="grid gap-3 sm:grid-cols-2">
          <TextField
            label="Wait at most (seconds)"
            path="policies.conditions.max_wait_secs"
            type="number"
            inputMode="numeric"
            value={form.maxWait}
            hint="From 60 seconds to 7 days (604800). A state the computer cannot tell counts as met."
            onChange={(maxWait) => patch({ maxWait }, "policies.conditions.max_wait_secs")}
          />
          <SelectField
            label="If still not met then"
            path="policies.conditions.on_timeout"
            value={form.onTimeout}
            options={[
              ["skip", "Skip the run"],
              ["run", "Run anyway"],
            ]}
            onChange={(onTimeout) => patch({ onTimeout }, "policies.conditions.on_timeout")}
          />
        </div>
      )}
      <TextField
        label="Random delay up to (seconds)"
        path="policies.conditions.random_delay_secs"
        className="max-w-xs"
        type="number"
        inputMode="numeric"
        value={form.randomDelay}
        hint="0: none. Each run starts a random time from 0 to this after it is due, to spread load."
        onChange={(randomDelay) => patch({ randomDelay }, "policies.conditions.random_delay_secs")}
      />
    </Section>
  );
}
