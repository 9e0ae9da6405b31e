// Where each engine field error shows: under its input, or in the summary when no input has it.
import type { FieldError } from "../../bindings/FieldError";
import type { FormState } from "./form";

/** Paths under "More options": an error on one of them opens the disclosure. */
const MORE_PREFIXES = ["description", "tags", "enabled", "kind.working_dir", "kind.env", "kind.headers", "kind.body", "kind.expect_status", "kind.log_body_kib", "kind.ca_bundle", "policies"];

export function isMorePath(path: string): boolean {
  return MORE_PREFIXES.some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`) || (p === "kind.body" && path === "kind.body_contains"));
}

/** The input paths the form has for its current kind, program mode, trigger type and rows. */
function inputPaths(f: FormState): Set<string> {
  const paths = [
    "name",
    "description",
    "tags",
    "enabled",
    "trigger",
    "policies.timeout_secs",
    "policies.retry.max_attempts",
    "policies.retry.initial_delay_secs",
    "policies.retry.multiplier",
    "policies.retry.max_delay_secs",
    "policies.overlap",
    "policies.missed.mode",
    "policies.missed.max_catch_up",
    "policies.missed.grace_secs",
    "policies.notify",
    "policies.conditions.max_wait_secs",
    "policies.conditions.on_timeout",
    "policies.conditions.random_delay_secs",
  ];
  if (f.kindType === "command") {
    paths.push("kind.working_dir");
    f.env.forEach((_, i) => paths.push(`kind.env[${i}].name`, `kind.env[${i}].value`));
    if (f.programMode === "exec") {
      paths.push("kind.program.program");
      f.args.forEach((_, i) => paths.push(`kind.program.args[${i}]`));
    } else {
      paths.push("kind.program.body", f.interpreter === "custom" ? "kind.program.interpreter.custom" : "kind.program.interpreter");
    }
  } else {
    paths.push("kind.method", "kind.url", "kind.body", "kind.expect_status", "kind.body_contains", "kind.log_body_kib", "kind.ca_bundle");
    f.headers.forEach((_, i) => paths.push(`kind.headers[${i}].name`, `kind.headers[${i}].value`));
  }
  switch (f.triggerType) {
    case "cron":
      paths.push("trigger.expr", "trigger.timezone");
      break;
    case "interval":
      paths.push("trigger.every", "trigger.unit", "trigger.anchor");
      break;
    case "once":
      paths.push("trigger.at");
      break;
    case "at_start":
    case "on_wake":
      paths.push("trigger.delay_secs");
      break;
    case "file_arrives":
      paths.push("trigger.folder", "trigger.glob", "trigger.settle_secs");
      break;
    case "manual":
    case "after_job":
      break;
  }
  return new Set(paths);
}

/** The input path an engine path is shown under, before checking that the input exists. */
function alias(path: string, f: FormState): string {
  if (/^tags\[\d+\]$/.test(path)) return "tags";
  const row = /^(kind\.(?:env|headers)\[\d+\])$/.exec(path);
  if (row) return `${row[1]}.name`;
  if (path.startsWith("kind.expect_status.")) return "kind.expect_status";
  if (path === "kind.program.interpreter" && f.interpreter === "custom") return "kind.program.interpreter.custom";
  if (path === "trigger.job_id" || path === "trigger.on") return "trigger";
  return path;
}

export interface PlacedErrors {
  /** Message by input path. */
  byPath: Record<string, string>;
  /** Errors no input shows. */
  unplaced: FieldError[];
}

export function placeErrors(errors: FieldError[], f: FormState): PlacedErrors {
  const paths = inputPaths(f);
  const byPath: Record<string, string> = {};
  const unplaced: FieldError[] = [];
  for (const e of errors) {
    const path = alias(e.field, f);
    if (paths.has(path)) byPath[path] = byPath[path] ? `${byPath[path]}; ${e.message}` : e.message;
    else unplaced.push(e);
  }
  return { byPath, unplaced };
}

/** Errors left after the user changed the fields under `prefixes`. */
export function clearErrors(errors: FieldError[], prefixes: string[]): FieldError[] {
  if (prefixes.length === 0) return errors;
  const left = errors.filter((e) => !prefixes.some((p) => e.field === p || e.field.startsWith(`${p}.`) || e.field.startsWith(`${p}[`)));
  return left.length === errors.length ? errors : left;
}
