// "What to run": a command (a program with its arguments, or a script for an interpreter) or
// an HTTP request (method and URL). The request's other settings are in RequestSection.
import { inputClass } from "../../../components/Button";
import { ArgsEditor, Field, SelectField, TextField } from "../fields";
import { NAMED_INTERPRETERS } from "../form";
import type { SectionProps } from "../useJobForm";
import { Section, SegmentedToggle } from "./Section";

const KIND_OPTIONS = [
  ["command", "Command"],
  ["http", "HTTP request"],
] as const;

const INTERPRETER_LABELS: Record<string, string> = { sh: "sh", bash: "bash", python: "Python", node: "Node.js", pwsh: "PowerShell (pwsh)", cmd: "cmd.exe" };
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

export function WhatToRunSection({ form, patch }: SectionProps) {
  const methods = METHODS.includes(form.method) ? METHODS : [form.method, ...METHODS];
  return (
    <Section title="What to run">
      <SegmentedToggle label="Kind" value={form.kindType} options={KIND_OPTIONS} onChange={(kindType) => patch({ kindType })} testId="editor-kind" />
      {form.kindType === "command" ? (
        <div className="space-y-3">
          <SegmentedToggle
            label="Command form"
            value={form.programMode}
            options={[
              ["exec", "Program + arguments"],
              ["script", "Script"],
            ]}
            onChange={(programMode) => patch({ programMode })}
            testId="editor-program-mode"
          />
          {form.programMode === "exec" ? (
            <>
              <TextField
                label="Program"
                path="kind.program.program"
                value={form.program}
                mono
                testId="editor-program"
                placeholder="/usr/bin/rsync"
                hint="An executable name or path. It runs directly, without a shell."
                onChange={(program) => patch({ program }, "kind.program.program")}
              />
              <ArgsEditor rows={form.args} onChange={(args) => patch({ args }, "kind.program.args")} />
            </>
          ) : (
            <>
              <div className="flex flex-wrap gap-3">
                <SelectField
                  label="Interpreter"
                  path="kind.program.interpreter"
                  className="w-56"
                  value={form.interpreter}
                  options={[...NAMED_INTERPRETERS.map((i) => [i, INTERPRETER_LABELS[i] ?? i] as const), ["custom", "Other program…"] as const]}
                  onChange={(interpreter) => patch({ interpreter }, "kind.program.interpreter")}
                />
                {form.interpreter === "custom" && (
                  <TextField
                    label="Interpreter program"
                    path="kind.program.interpreter.custom"
                    className="min-w-48 flex-1"
                    mono
                    value={form.customInterpreter}
                    placeholder="ruby"
                    onChange={(customInterpreter) => patch({ customInterpreter }, "kind.program.interpreter")}
                  />
                )}
              </div>
              <Field
                label="Script"
                path="kind.program.body"
                render={(props) => (
                  <textarea
                    {...props}
                    value={form.body}
                    rows={8}
                    spellCheck={false}
                    data-testid="editor-program"
                    onChange={(e) => patch({ body: e.target.value }, "kind.program.body")}
                    className={`${inputClass} font-mono`}
                  />
                )}
              />
            </>
          )}
        </div>
      ) : (
        <div className="flex flex-wrap gap-3">
          <SelectField
            label="Method"
            path="kind.method"
            className="w-32"
            value={form.method}
            options={methods.map((m) => [m, m] as const)}
            onChange={(method) => patch({ method }, "kind.method")}
          />
          <TextField
            label="URL"
            path="kind.url"
            type="url"
            className="min-w-64 flex-1"
            value={form.url}
            mono
            testId="editor-url"
            placeholder="https://example.com/health"
            onChange={(url) => patch({ url }, "kind.url")}
          />
        </div>
      )}
    </Section>
  );
}
