// "Run now with…": one run of a job with environment values changed or added and arguments
// appended. Prefilled from the job's environment; secrets are shown masked and cannot be
// changed for one run (the engine refuses it: decisions/0013). HTTP jobs take neither.
import * as Dialog from "@radix-ui/react-dialog";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { Job } from "../../bindings/Job";
import type { Run } from "../../bindings/Run";
import type { RunOverrides } from "../../bindings/RunOverrides";
import { Button, fieldClass, inputClass } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";

interface Row {
  key: number;
  name: string;
  value: string;
  /** The job's own value (`null` for a variable added here). */
  jobValue: string | null;
  secret: boolean;
}

function initialRows(job: Job): Row[] {
  if (job.kind.type !== "command") return [];
  return job.kind.env.map((v, i) => ({ key: i, name: v.name, value: v.value, jobValue: v.value, secret: v.secret }));
}

/** The overrides the rows say (changed or added values only) and, for each sent entry, the
 * row it came from, so the engine's `env[i]` errors land next to their inputs. */
export function overridesFrom(rows: Row[], argsText: string): { overrides: RunOverrides; rowOf: number[] } {
  const rowOf: number[] = [];
  const env = rows.flatMap((r) => {
    if (r.secret) return [];
    if (r.jobValue === null ? r.name.trim() === "" && r.value === "" : r.value === r.jobValue) return [];
    rowOf.push(r.key);
    return [{ name: r.jobValue === null ? r.name.trim() : r.name, value: r.value }];
  });
  const args = argsText === "" ? [] : argsText.split("\n").filter((a, i, all) => !(a === "" && i === all.length - 1));
  return { overrides: { env, args }, rowOf };
}

function commandLine(job: Job): string | null {
  if (job.kind.type !== "command") return null;
  const p = job.kind.program;
  return p.mode === "exec" ? [p.program, ...p.args].join(" ") : `the ${typeof p.interpreter === "string" ? p.interpreter : p.interpreter.custom} script`;
}

export function RunWithDialog({ jobId, open, onClose, onStarted }: { jobId: string; open: boolean; onClose: () => void; onStarted: (run: Run) => void }) {
  const backend = useBackend();
  const job = useQuery({ queryKey: ["job", jobId], queryFn: () => backend.getJob(jobId), enabled: open });
  return (
    <Dialog.Root open={open} onOpenChange={(next) => !next && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-950/40" />
        <Dialog.Content
          className="fixed top-1/2 left-1/2 z-50 flex max-h-[90vh] w-[min(40rem,94vw)] -translate-x-1/2 -translate-y-1/2 flex-col rounded-lg border border-slate-200 bg-white shadow-xl dark:border-slate-700 dark:bg-slate-900"
          data-testid="run-with-dialog"
          aria-describedby={undefined}
        >
          <Dialog.Title className="border-b border-slate-200 px-5 py-3 text-base font-semibold dark:border-slate-700">
            Run {job.data ? `“${job.data.name}”` : "job"} now with…
          </Dialog.Title>
          {job.data ? (
            <RunWithForm key={`${job.data.id}:${job.data.revision}`} job={job.data} onClose={onClose} onStarted={onStarted} />
          ) : job.error ? (
            <p role="alert" className="p-5 text-sm text-red-700 dark:text-red-400">
              Could not load the job: {BackendError.from(job.error).message}
            </p>
          ) : (
            <p className="p-5 text-sm text-slate-500">Loading…</p>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function RunWithForm({ job, onClose, onStarted }: { job: Job; onClose: () => void; onStarted: (run: Run) => void }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [rows, setRows] = useState<Row[]>(() => initialRows(job));
  const [nextKey, setNextKey] = useState(rows.length);
  const [argsText, setArgsText] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<BackendError | null>(null);
  const { overrides, rowOf } = useMemo(() => overridesFrom(rows, argsText), [rows, argsText]);

  if (job.kind.type !== "command") {
    return (
      <div className="p-5">
        <p className="text-sm text-slate-700 dark:text-slate-200" data-testid="run-with-http">
          An HTTP job has no environment and takes no arguments, so there is nothing to change for one run. To call a
          different address or send other headers, change the job in its Settings; “Run now” runs it as it is.
        </p>
        <div className="mt-5 flex justify-end">
          <Button onClick={onClose} autoFocus>
            Close
          </Button>
        </div>
      </div>
    );
  }

  const fieldError = (path: string) => error?.fields.find((f) => f.field === path)?.message;
  const rowError = (key: number, part: "name" | "value") => {
    const i = rowOf.indexOf(key);
    return i < 0 ? undefined : fieldError(`env[${i}].${part}`);
  };
  const argErrors = (error?.fields ?? []).filter((f) => f.field === "args" || f.field.startsWith("args["));
  const shown = new Set<string>([...rowOf.flatMap((_, i) => [`env[${i}].name`, `env[${i}].value`]), "env"]);
  argErrors.forEach((f) => shown.add(f.field));
  const otherErrors = (error?.fields ?? []).filter((f) => !shown.has(f.field));
  const update = (key: number, patch: Partial<Row>) => {
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));
    setError(null);
  };
  const submit = async () => {
    setPending(true);
    setError(null);
    try {
      const run = await backend.runJobWith(job.id, overrides);
      void queryClient.invalidateQueries();
      onStarted(run);
      onClose();
    } catch (e) {
      setError(BackendError.from(e));
    } finally {
      setPending(false);
    }
  };
  const changed = overrides.env.length + overrides.args.length;
  const program = commandLine(job);

  return (
    <form
      className="flex min-h-0 flex-col"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="min-h-0 flex-1 space-y-5 overflow-auto px-5 py-4">
        <p className="text-sm text-slate-600 dark:text-slate-300">
          For this one run only: the job keeps its settings, and history shows what was changed.
        </p>
        <fieldset>
          <legend className="text-sm font-medium">Environment</legend>
          {rows.length === 0 && <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">The job sets no variables. Add one for this run:</p>}
          <div className="mt-2 space-y-2" data-testid="run-with-env">
            {rows.map((r) => {
              const nameError = rowError(r.key, "name");
              const valueError = rowError(r.key, "value");
              const isChanged = r.jobValue !== null && !r.secret && r.value !== r.jobValue;
              return (
                <div key={r.key} data-testid="run-with-env-row" data-name={r.name}>
                  <div className="grid grid-cols-[11rem_1fr_5.5rem] items-center gap-2">
                    {r.jobValue === null ? (
                      <input
                        className={`${fieldClass} w-full font-mono`}
                        placeholder="NAME"
                        aria-label="Variable name"
                        value={r.name}
                        aria-invalid={nameError ? true : undefined}
                        onChange={(e) => update(r.key, { name: e.target.value })}
                        data-testid="run-with-env-name"
                      />
                    ) : (
                      <span className="truncate font-mono text-sm" title={r.name}>
                        {r.name}
                      </span>
                    )}
                    <input
                      className={`${inputClass} font-mono ${r.secret ? "bg-slate-100 text-slate-500 dark:bg-slate-800" : ""}`}
                      aria-label={`Value of ${r.name || "the new variable"}`}
                      value={r.value}
                      disabled={r.secret}
                      title={r.secret ? "A secret is not changed for one run: change it in the job's Settings" : undefined}
                      aria-invalid={valueError ? true : undefined}
                      onChange={(e) => update(r.key, { value: e.target.value })}
                      data-testid="run-with-env-value"
                    />
                    <div className="text-xs text-slate-500 dark:text-slate-400">
                      {r.secret ? (
                        <span title="A secret is not changed for one run: change it in the job's Settings">secret, kept</span>
                      ) : r.jobValue === null ? (
                        <button type="button" className="underline" onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}>
                          Remove
                        </button>
                      ) : isChanged ? (
                        <button type="button" className="underline" onClick={() => update(r.key, { value: r.jobValue ?? "" })} title={`The job's value: ${r.jobValue}`}>
                          Undo change
                        </button>
                      ) : (
                        "job's value"
                      )}
                    </div>
                  </div>
                  {(nameError ?? valueError) && (
                    <p className="mt-1 text-sm text-red-700 dark:text-red-400" data-testid="run-with-field-error">
                      {nameError ?? valueError}
                    </p>
                  )}
                </div>
              );
            })}
          </div>
          <Button
            className="mt-2 !px-2.5 !py-1"
            onClick={() => {
              setRows((rs) => [...rs, { key: nextKey, name: "", value: "", jobValue: null, secret: false }]);
              setNextKey(nextKey + 1);
            }}
            data-testid="run-with-add-env"
          >
            + Add a variable
          </Button>
          {fieldError("env") && <p className="mt-1 text-sm text-red-700 dark:text-red-400">{fieldError("env")}</p>}
        </fieldset>
        <div>
          <label className="text-sm font-medium" htmlFor="run-with-args">
            Extra arguments, one per line
          </label>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            Appended after {program ? <span className="font-mono">{program}</span> : "the program's own"}
            {job.kind.program.mode === "script" ? " ($1, $2… in a shell script)" : ""}; each line is one argument, spaces and all.
          </p>
          <textarea
            id="run-with-args"
            className={`${inputClass} mt-1 h-20 font-mono`}
            value={argsText}
            onChange={(e) => {
              setArgsText(e.target.value);
              setError(null);
            }}
            aria-invalid={argErrors.length > 0 ? true : undefined}
            data-testid="run-with-args"
          />
          {argErrors.map((f) => (
            <p key={f.field} className="mt-1 text-sm text-red-700 dark:text-red-400" data-testid="run-with-field-error">
              {f.field === "args" ? f.message : `Line ${Number(f.field.slice(5, -1)) + 1}: ${f.message}`}
            </p>
          ))}
        </div>
        {error && (otherErrors.length > 0 || error.fields.length === 0) && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            Could not start the run: {otherErrors.length > 0 ? otherErrors.map((f) => `${f.field}: ${f.message}`).join("; ") : error.message}
          </p>
        )}
      </div>
      <div className="flex items-center justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-700">
        <span className="mr-auto text-xs text-slate-500 dark:text-slate-400" data-testid="run-with-summary">
          {changed === 0 ? "Nothing changed: the job runs as it is." : `${overrides.env.length} value${overrides.env.length === 1 ? "" : "s"} set, ${overrides.args.length} argument${overrides.args.length === 1 ? "" : "s"} added`}
        </span>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" disabled={pending} data-testid="run-with-start">
          {pending ? "Starting…" : "▶ Run"}
        </Button>
      </div>
    </form>
  );
}
