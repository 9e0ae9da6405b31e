// "Environment" (under More options, for a command): its working directory and variables.
import { TextField, VarsEditor } from "../fields";
import type { SectionProps } from "../useJobForm";
import { Section } from "./Section";

export function EnvironmentSection({ form, patch }: SectionProps) {
  return (
    <Section title="Environment">
      <TextField
        label="Working directory"
        path="kind.working_dir"
        value={form.workingDir ?? ""}
        mono
        placeholder="Your home folder"
        onChange={(v) => patch({ workingDir: v === "" ? null : v }, "kind.working_dir")}
      />
      <VarsEditor
        legend="Environment variables"
        pathPrefix="kind.env"
        noun="variable"
        namePlaceholder="NAME"
        rows={form.env}
        onChange={(env) => patch({ env }, "kind.env")}
      />
    </Section>
  );
}
