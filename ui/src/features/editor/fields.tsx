// Labelled inputs that know their engine field path: each shows its error right under it,
// linked with aria-describedby, and carries `data-testid="field-error-<path>"` on the message.
import { createContext, useContext, useState, type ReactNode } from "react";
import { Button, inputClass } from "../../components/Button";
import { nextRowKey, SECRET_MASK, type ArgRow, type VarRow } from "./form";

interface FieldsContextValue {
  prefix: string;
  errors: Record<string, string>;
}

export const FieldsContext = createContext<FieldsContextValue>({ prefix: "field", errors: {} });

/** The DOM id of the input for an engine field path. */
export function fieldId(prefix: string, path: string): string {
  return `${prefix}-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** Ids, error and ARIA attributes for the input of `path`. */
export function useField(path: string, hintId?: string) {
  const { prefix, errors } = useContext(FieldsContext);
  const id = fieldId(prefix, path);
  const errorId = `${id}-error`;
  const error = errors[path];
  const describedBy = [error ? errorId : null, hintId ?? null].filter(Boolean).join(" ");
  return {
    id,
    errorId,
    error,
    inputProps: {
      id,
      "aria-invalid": error ? (true as const) : undefined,
      "aria-describedby": describedBy === "" ? undefined : describedBy,
    },
  };
}

export function FieldErrorText({ path, id, message }: { path: string; id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} data-testid={`field-error-${path}`} className="mt-1 text-xs font-medium text-red-700 dark:text-red-400">
      {message}
    </p>
  );
}

export const labelClass = "mb-1 block text-sm font-medium text-slate-700 dark:text-slate-200";
export const hintClass = "mt-1 text-xs text-slate-500 dark:text-slate-400";

/** A label, one input (given its props by `render`), a hint and the field's error. */
export function Field({
  label,
  path,
  hint,
  className = "",
  render,
}: {
  label: string;
  path: string;
  hint?: ReactNode;
  className?: string;
  render: (props: ReturnType<typeof useField>["inputProps"]) => ReactNode;
}) {
  const { prefix } = useContext(FieldsContext);
  const hintId = hint ? `${fieldId(prefix, path)}-hint` : undefined;
  const field = useField(path, hintId);
  return (
    <div className={className}>
      <label htmlFor={field.id} className={labelClass}>
        {label}
      </label>
      {render(field.inputProps)}
      <FieldErrorText path={path} id={field.errorId} message={field.error} />
      {hint && (
        <p id={hintId} className={hintClass}>
          {hint}
        </p>
      )}
    </div>
  );
}

export function TextField({
  label,
  path,
  value,
  onChange,
  hint,
  className,
  placeholder,
  type = "text",
  testId,
  mono = false,
  inputMode,
}: {
  label: string;
  path: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  className?: string;
  placeholder?: string;
  type?: "text" | "url" | "number" | "datetime-local";
  testId?: string;
  mono?: boolean;
  inputMode?: "numeric" | "decimal";
}) {
  return (
    <Field
      label={label}
      path={path}
      hint={hint}
      className={className ?? ""}
      render={(props) => (
        <input
          {...props}
          type={type}
          value={value}
          placeholder={placeholder}
          inputMode={inputMode}
          data-testid={testId}
          spellCheck={mono ? false : undefined}
          onChange={(e) => onChange(e.target.value)}
          className={`${inputClass} ${mono ? "font-mono" : ""}`}
        />
      )}
    />
  );
}

export function SelectField<T extends string>({
  label,
  path,
  value,
  options,
  onChange,
  hint,
  className,
  testId,
}: {
  label: string;
  path: string;
  value: T;
  options: ReadonlyArray<readonly [T, string]>;
  onChange: (value: T) => void;
  hint?: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <Field
      label={label}
      path={path}
      hint={hint}
      className={className ?? ""}
      render={(props) => (
        <select {...props} value={value} data-testid={testId} onChange={(e) => onChange(e.target.value as T)} className={inputClass}>
          {options.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
    />
  );
}

export function Checkbox({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange: (checked: boolean) => void; hint?: string }) {
  return (
    <label className="inline-flex cursor-pointer items-start gap-2 text-sm">
      <input type="checkbox" className="mt-0.5 size-4 accent-sky-600" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>
        <span className="font-medium text-slate-700 dark:text-slate-200">{label}</span>
        {hint && <span className="block text-xs text-slate-500 dark:text-slate-400">{hint}</span>}
      </span>
    </label>
  );
}

/** Typing into a masked secret replaces the mask instead of appending to it. */
export function replaceMask(previous: string, next: string): string {
  if (previous !== SECRET_MASK || next === SECRET_MASK) return next;
  if (next.startsWith(SECRET_MASK)) return next.slice(SECRET_MASK.length);
  return next.length < SECRET_MASK.length && SECRET_MASK.startsWith(next) ? "" : next;
}

/** One input per argument, in order, added and removed one by one: no quoting to get wrong. */
export function ArgsEditor({ rows, onChange }: { rows: ArgRow[]; onChange: (rows: ArgRow[]) => void }) {
  const { prefix } = useContext(FieldsContext);
  return (
    <fieldset>
      <legend className={labelClass}>Arguments</legend>
      {rows.length === 0 && <p className="text-xs text-slate-500 dark:text-slate-400">No arguments.</p>}
      <ol className="space-y-1.5">
        {rows.map((row, i) => (
          <ArgInput
            key={row.key}
            index={i}
            row={row}
            onChange={(value) => onChange(rows.map((r) => (r.key === row.key ? { ...r, value } : r)))}
            onRemove={() => onChange(rows.filter((r) => r.key !== row.key))}
          />
        ))}
      </ol>
      <Button
        className="mt-2"
        onClick={() => {
          const key = nextRowKey();
          onChange([...rows, { key, value: "" }]);
          requestAnimationFrame(() => document.getElementById(fieldId(prefix, `kind.program.args[${rows.length}]`))?.focus());
        }}
      >
        + Add argument
      </Button>
    </fieldset>
  );
}

function ArgInput({ index, row, onChange, onRemove }: { index: number; row: ArgRow; onChange: (value: string) => void; onRemove: () => void }) {
  const path = `kind.program.args[${index}]`;
  const field = useField(path);
  return (
    <li>
      <div className="flex items-center gap-2">
        <label htmlFor={field.id} className="sr-only">
          Argument {index + 1}
        </label>
        <span aria-hidden="true" className="w-5 text-right text-xs text-slate-400">
          {index + 1}
        </span>
        <input
          {...field.inputProps}
          value={row.value}
          spellCheck={false}
          data-testid="editor-arg"
          onChange={(e) => onChange(e.target.value)}
          className={`${inputClass} font-mono`}
        />
        <Button variant="ghost" aria-label={`Remove argument ${index + 1}`} onClick={onRemove}>
          ✕
        </Button>
      </div>
      <FieldErrorText path={path} id={field.errorId} message={field.error} />
    </li>
  );
}

/** Name/value rows with a Secret checkbox: environment variables or HTTP headers. */
export function VarsEditor({
  legend,
  pathPrefix,
  noun,
  rows,
  onChange,
  namePlaceholder,
}: {
  legend: string;
  pathPrefix: "kind.env" | "kind.headers";
  noun: string;
  rows: VarRow[];
  onChange: (rows: VarRow[]) => void;
  namePlaceholder: string;
}) {
  const { prefix } = useContext(FieldsContext);
  const update = (key: number, patch: Partial<VarRow>) => onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <fieldset>
      <legend className={labelClass}>{legend}</legend>
      {rows.length === 0 && <p className="text-xs text-slate-500 dark:text-slate-400">None.</p>}
      <ul className="space-y-2">
        {rows.map((row, i) => (
          <VarRowInputs
            key={row.key}
            index={i}
            row={row}
            noun={noun}
            pathPrefix={pathPrefix}
            namePlaceholder={namePlaceholder}
            onChange={(patch) => update(row.key, patch)}
            onRemove={() => onChange(rows.filter((r) => r.key !== row.key))}
          />
        ))}
      </ul>
      <Button
        className="mt-2"
        onClick={() => {
          onChange([...rows, { key: nextRowKey(), name: "", value: "", secret: false }]);
          requestAnimationFrame(() => document.getElementById(fieldId(prefix, `${pathPrefix}[${rows.length}].name`))?.focus());
        }}
      >
        + Add {noun}
      </Button>
    </fieldset>
  );
}

function VarRowInputs({
  index,
  row,
  noun,
  pathPrefix,
  namePlaceholder,
  onChange,
  onRemove,
}: {
  index: number;
  row: VarRow;
  noun: string;
  pathPrefix: string;
  namePlaceholder: string;
  onChange: (patch: Partial<VarRow>) => void;
  onRemove: () => void;
}) {
  const name = useField(`${pathPrefix}[${index}].name`);
  const value = useField(`${pathPrefix}[${index}].value`);
  const [revealed, setRevealed] = useState(false);
  const masked = row.secret && row.value === SECRET_MASK;
  return (
    <li className="rounded-md border border-slate-200 p-2 dark:border-slate-700">
      <div className="flex flex-wrap items-start gap-2">
        <div className="min-w-32 flex-1">
          <label htmlFor={name.id} className="sr-only">
            {noun} {index + 1} name
          </label>
          <input
            {...name.inputProps}
            value={row.name}
            placeholder={namePlaceholder}
            spellCheck={false}
            onChange={(e) => onChange({ name: e.target.value })}
            className={`${inputClass} font-mono`}
          />
          <FieldErrorText path={`${pathPrefix}[${index}].name`} id={name.errorId} message={name.error} />
        </div>
        <div className="min-w-40 flex-[2]">
          <label htmlFor={value.id} className="sr-only">
            {noun} {index + 1} value
          </label>
          <input
            {...value.inputProps}
            type={row.secret && !(revealed && !masked) ? "password" : "text"}
            value={row.value}
            placeholder="value"
            spellCheck={false}
            autoComplete="off"
            title={masked ? "Stored secret: type to replace it" : undefined}
            onFocus={(e) => {
              if (masked) e.target.select();
            }}
            onChange={(e) => onChange({ value: row.secret ? replaceMask(row.value, e.target.value) : e.target.value })}
            className={`${inputClass} font-mono`}
          />
          <FieldErrorText path={`${pathPrefix}[${index}].value`} id={value.errorId} message={value.error} />
        </div>
        <label className="inline-flex items-center gap-1.5 pt-1.5 text-sm">
          <input
            type="checkbox"
            className="size-4 accent-sky-600"
            checked={row.secret}
            onChange={(e) =>
              // Un-marking a stored secret must not send the mask as a plain value.
              onChange(!e.target.checked && row.value === SECRET_MASK ? { secret: false, value: "" } : { secret: e.target.checked })
            }
          />
          Secret
        </label>
        {row.secret && !masked && (
          <Button variant="ghost" aria-pressed={revealed} onClick={() => setRevealed((r) => !r)}>
            {revealed ? "Hide" : "Show"}
          </Button>
        )}
        <Button variant="ghost" aria-label={`Remove ${noun} ${index + 1}`} onClick={onRemove}>
          ✕
        </Button>
      </div>
    </li>
  );
}

/** Tags as chips: Enter or a comma adds the typed tag, ✕ removes one. */
export function TagsInput({ tags, onChange }: { tags: string[]; onChange: (tags: string[]) => void }) {
  const [draft, setDraft] = useState("");
  const commit = (text: string) => {
    const fresh = text
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t !== "" && !tags.includes(t));
    if (fresh.length > 0) onChange([...tags, ...fresh]);
    setDraft("");
  };
  return (
    <Field
      label="Tags"
      path="tags"
      hint="Press Enter or type a comma to add a tag."
      render={(props) => (
        <div className="flex flex-wrap items-center gap-1.5 rounded-md border border-slate-300 bg-white px-1.5 py-1 focus-within:outline-2 focus-within:outline-sky-600/40 dark:border-slate-600 dark:bg-slate-900">
          {tags.map((tag) => (
            <span key={tag} className="inline-flex items-center gap-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-100" data-testid="editor-tag">
              {tag}
              <button
                type="button"
                aria-label={`Remove tag ${tag}`}
                className="rounded px-0.5 text-slate-500 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-sky-600 dark:hover:text-white"
                onClick={() => onChange(tags.filter((t) => t !== tag))}
              >
                ✕
              </button>
            </span>
          ))}
          <input
            {...props}
            value={draft}
            placeholder={tags.length === 0 ? "backup, nightly" : ""}
            onChange={(e) => {
              const text = e.target.value;
              if (text.includes(",")) commit(text);
              else setDraft(text);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                commit(draft);
              } else if (e.key === "Backspace" && draft === "" && tags.length > 0) {
                onChange(tags.slice(0, -1));
              }
            }}
            onBlur={() => commit(draft)}
            className="min-w-24 flex-1 border-0 bg-transparent px-1 py-0.5 text-sm outline-none"
          />
        </div>
      )}
    />
  );
}
