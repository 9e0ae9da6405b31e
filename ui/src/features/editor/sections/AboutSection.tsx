// "About" (under More options): the description, the tags and whether the job is enabled.
import { inputClass } from "../../../components/Button";
import { Checkbox, Field, TagsInput } from "../fields";
import type { SectionProps } from "../useJobForm";
import { Section } from "./Section";

export function AboutSection({ form, patch }: SectionProps) {
  return (
    <Section title="About">
      <Field
        label="Description"
        path="description"
        render={(props) => (
          <textarea {...props} rows={2} value={form.description} onChange={(e) => patch({ description: e.target.value }, "description")} className={inputClass} />
        )}
      />
      <TagsInput tags={form.tags} onChange={(tags) => patch({ tags }, "tags")} />
      <Checkbox label="Enabled" hint="A disabled job keeps its settings but never runs on schedule." checked={form.enabled} onChange={(enabled) => patch({ enabled }, "enabled")} />
    </Section>
  );
}
