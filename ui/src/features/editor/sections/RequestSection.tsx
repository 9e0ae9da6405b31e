// "Request and response" (under More options, for an HTTP request): headers, body, the statuses
// that count as success, what the response must contain, how much of it the log keeps, a CA.
import { inputClass } from "../../../components/Button";
import { Field, TextField, useField, VarsEditor } from "../fields";
import type { SectionProps } from "../useJobForm";
import { Section } from "./Section";

export function RequestSection({ form, patch }: SectionProps) {
  // The range's second input shares the first one's error (the field is the whole range).
  const expectStatus = useField("kind.expect_status");
  return (
    <Section title="Request and response">
      <VarsEditor
        legend="Headers"
        pathPrefix="kind.headers"
        noun="header"
        namePlaceholder="Header-Name"
        rows={form.headers}
        onChange={(headers) => patch({ headers }, "kind.headers")}
      />
      <Field
        label="Request body"
        path="kind.body"
        hint="Empty: no body."
        render={(props) => (
          <textarea
            {...props}
            rows={4}
            spellCheck={false}
            value={form.httpBody ?? ""}
            onChange={(e) => patch({ httpBody: e.target.value === "" ? null : e.target.value }, "kind.body")}
            className={`${inputClass} font-mono`}
          />
        )}
      />
      <fieldset>
        <legend className="mb-1 block text-sm font-medium text-slate-700 dark:text-slate-200">Success when the status is between</legend>
        <div className="flex items-center gap-2">
          <Field
            label="Lowest status"
            path="kind.expect_status"
            className="w-32 [&>label]:sr-only"
            render={(props) => (
              <input
                {...props}
                type="number"
                inputMode="numeric"
                value={form.expectMin}
                onChange={(e) => patch({ expectMin: e.target.value }, "kind.expect_status")}
                className={inputClass}
              />
            )}
          />
          <span className="text-sm text-slate-500">and</span>
          <label className="w-32">
            <span className="sr-only">Highest status</span>
            <input
              type="number"
              inputMode="numeric"
              value={form.expectMax}
              aria-invalid={expectStatus.error ? true : undefined}
              aria-describedby={expectStatus.error ? expectStatus.errorId : undefined}
              onChange={(e) => patch({ expectMax: e.target.value }, "kind.expect_status")}
              className={inputClass}
            />
          </label>
        </div>
      </fieldset>
      <TextField
        label="Response body must contain"
        path="kind.body_contains"
        value={form.bodyContains ?? ""}
        hint="Empty: any body."
        onChange={(v) => patch({ bodyContains: v === "" ? null : v }, "kind.body_contains")}
      />
      <TextField
        label="Response body kept in the run log (KiB)"
        path="kind.log_body_kib"
        type="number"
        inputMode="numeric"
        className="w-64"
        value={form.logBodyKib}
        onChange={(logBodyKib) => patch({ logBodyKib }, "kind.log_body_kib")}
      />
      <TextField
        label="Extra CA bundle"
        path="kind.ca_bundle"
        value={form.caBundle}
        hint="A PEM file of CA certificates this job trusts besides the system's (an intranet API's corporate CA). Empty: the system's trust store and the bundle in Settings."
        onChange={(caBundle) => patch({ caBundle }, "kind.ca_bundle")}
      />
    </Section>
  );
}
