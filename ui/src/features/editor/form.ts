// The editor's form state and its exact conversions to and from a JobSpec.
//
// The form keeps every kind, program mode and trigger type side by side, so switching back and
// forth loses nothing; only the selected ones go into the spec. Numbers stay as the text the user
// typed until saving. `formToSpec(specToForm(spec))` equals `spec` for every spec the engine
// accepts: that is what makes "change one field, save, and nothing else moves" hold.
import type { ChainOn } from "../../bindings/ChainOn";
import type { Conditions } from "../../bindings/Conditions";
import type { ConditionTimeout } from "../../bindings/ConditionTimeout";
import type { EnvVar } from "../../bindings/EnvVar";
import type { FieldError } from "../../bindings/FieldError";
import type { Interpreter } from "../../bindings/Interpreter";
import type { IntervalUnit } from "../../bindings/IntervalUnit";
import type { JobKind } from "../../bindings/JobKind";
import type { JobSpec } from "../../bindings/JobSpec";
import type { MissedRunMode } from "../../bindings/MissedRunMode";
import type { NotifyPolicy } from "../../bindings/NotifyPolicy";
import type { OverlapPolicy } from "../../bindings/OverlapPolicy";
import type { Program } from "../../bindings/Program";
import type { Trigger } from "../../bindings/Trigger";

/** What `getJob` sends in place of a secret value; sending it back keeps the stored value. */
export const SECRET_MASK = "••••••";

export type TriggerType = Trigger["type"];
export type KindType = JobKind["type"];
export type NamedInterpreter = Exclude<Interpreter, { custom: string }>;
export const NAMED_INTERPRETERS: NamedInterpreter[] = ["sh", "bash", "python", "node", "pwsh", "cmd"];

/** A row of a list editor; `key` only keeps React's identity of rows and never leaves the form. */
export interface ArgRow {
  key: number;
  value: string;
}
export interface VarRow {
  key: number;
  name: string;
  value: string;
  secret: boolean;
}

export interface FormState {
  name: string;
  description: string;
  tags: string[];
  enabled: boolean;

  kindType: KindType;
  // command
  programMode: Program["mode"];
  program: string;
  args: ArgRow[];
  interpreter: NamedInterpreter | "custom";
  customInterpreter: string;
  body: string;
  workingDir: string | null;
  env: VarRow[];
  // http
  method: string;
  url: string;
  headers: VarRow[];
  httpBody: string | null;
  expectMin: string;
  expectMax: string;
  bodyContains: string | null;
  logBodyKib: string;
  /** A PEM file of CA certificates trusted besides the system's ("": none). */
  caBundle: string;

  triggerType: TriggerType;
  cronExpr: string;
  /** `null`: the system's zone (kept as loaded; new jobs get the explicit system zone). */
  timezone: string | null;
  every: string;
  unit: IntervalUnit;
  /** UTC RFC 3339, as loaded or as converted from the user's local input. */
  anchor: string | null;
  onceAt: string;
  /** Seconds after Sundial starts or the computer wakes (at-start and on-wake triggers). */
  eventDelay: string;
  /** A file-arrives trigger: the folder watched, the file name pattern, the settle seconds. */
  watchFolder: string;
  watchGlob: string;
  settle: string;
  afterJobId: string;
  chainOn: ChainOn;

  timeout: string;
  maxAttempts: string;
  initialDelay: string;
  multiplier: string;
  maxDelay: string;
  overlap: OverlapPolicy;
  missedMode: MissedRunMode;
  maxCatchUp: string;
  grace: string;
  notify: NotifyPolicy;
  /** Conditions (decisions/0019): start only on AC power / with the network up, waiting up to
   * `maxWait` seconds, then `onTimeout`; a random delay of up to `randomDelay` seconds. */
  acPower: boolean;
  network: boolean;
  maxWait: string;
  onTimeout: ConditionTimeout;
  randomDelay: string;
}

/** The engine's default conditions: none (left out of the spec, as the engine leaves them out). */
export const DEFAULT_CONDITIONS: Conditions = { ac_power: false, network: false, max_wait_secs: 3600, on_timeout: "skip", random_delay_secs: 0 };

let rowCounter = 0;
export function nextRowKey(): number {
  rowCounter += 1;
  return rowCounter;
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const toRows = (vars: EnvVar[]): VarRow[] => vars.map((v) => ({ key: nextRowKey(), name: v.name, value: v.value, secret: v.secret }));
const fromRows = (rows: VarRow[]): EnvVar[] => rows.map((r) => ({ name: r.name, value: r.value, secret: r.secret }));

/** The form of a new job: the defaults the engine would pick, and the system's time zone. */
export function newJobForm(): FormState {
  return {
    name: "",
    description: "",
    tags: [],
    enabled: true,
    kindType: "command",
    programMode: "exec",
    program: "",
    args: [],
    interpreter: "sh",
    customInterpreter: "",
    body: "",
    workingDir: null,
    env: [],
    method: "GET",
    url: "",
    headers: [],
    httpBody: null,
    expectMin: "200",
    expectMax: "299",
    bodyContains: null,
    logBodyKib: "64",
    caBundle: "",
    triggerType: "cron",
    cronExpr: "",
    timezone: systemTimeZone(),
    every: "1",
    unit: "hours",
    anchor: null,
    onceAt: "",
    eventDelay: "0",
    watchFolder: "",
    watchGlob: "*",
    settle: "5",
    afterJobId: "",
    chainOn: "success",
    timeout: "",
    maxAttempts: "1",
    initialDelay: "10",
    multiplier: "2",
    maxDelay: "3600",
    overlap: "skip",
    missedMode: "run_once",
    maxCatchUp: "10",
    grace: "60",
    notify: "on_failure",
    acPower: false,
    network: false,
    maxWait: String(DEFAULT_CONDITIONS.max_wait_secs),
    onTimeout: DEFAULT_CONDITIONS.on_timeout,
    randomDelay: "0",
  };
}

export function specToForm(spec: JobSpec): FormState {
  const f = newJobForm();
  f.name = spec.name;
  f.description = spec.description;
  f.tags = [...spec.tags];
  f.enabled = spec.enabled;
  const kind = spec.kind;
  f.kindType = kind.type;
  if (kind.type === "command") {
    const p = kind.program;
    f.programMode = p.mode;
    if (p.mode === "exec") {
      f.program = p.program;
      f.args = p.args.map((value) => ({ key: nextRowKey(), value }));
    } else {
      f.body = p.body;
      if (typeof p.interpreter === "string") f.interpreter = p.interpreter;
      else {
        f.interpreter = "custom";
        f.customInterpreter = p.interpreter.custom;
      }
    }
    f.workingDir = kind.working_dir;
    f.env = toRows(kind.env);
  } else {
    f.method = kind.method;
    f.url = kind.url;
    f.headers = toRows(kind.headers);
    f.httpBody = kind.body;
    f.expectMin = String(kind.expect_status.min);
    f.expectMax = String(kind.expect_status.max);
    f.bodyContains = kind.body_contains;
    f.logBodyKib = String(kind.log_body_kib);
    f.caBundle = kind.ca_bundle ?? "";
  }
  const t = spec.trigger;
  f.triggerType = t.type;
  switch (t.type) {
    case "cron":
      f.cronExpr = t.expr;
      f.timezone = t.timezone;
      break;
    case "interval":
      f.every = String(t.every);
      f.unit = t.unit;
      f.anchor = t.anchor;
      break;
    case "once":
      f.onceAt = t.at;
      break;
    case "after_job":
      f.afterJobId = t.job_id;
      f.chainOn = t.on;
      break;
    case "at_start":
    case "on_wake":
      f.eventDelay = String(t.delay_secs);
      break;
    case "file_arrives":
      f.watchFolder = t.folder;
      f.watchGlob = t.glob;
      f.settle = String(t.settle_secs);
      break;
    case "manual":
      break;
  }
  const p = spec.policies;
  f.timeout = p.timeout_secs === null ? "" : String(p.timeout_secs);
  f.maxAttempts = String(p.retry.max_attempts);
  f.initialDelay = String(p.retry.initial_delay_secs);
  f.multiplier = String(p.retry.multiplier);
  f.maxDelay = String(p.retry.max_delay_secs);
  f.overlap = p.overlap;
  f.missedMode = p.missed.mode;
  f.maxCatchUp = String(p.missed.max_catch_up);
  f.grace = String(p.missed.grace_secs);
  f.notify = p.notify;
  const c = { ...DEFAULT_CONDITIONS, ...p.conditions };
  f.acPower = c.ac_power;
  f.network = c.network;
  f.maxWait = String(c.max_wait_secs);
  f.onTimeout = c.on_timeout;
  f.randomDelay = String(c.random_delay_secs);
  return f;
}

/** The form's conditions; `undefined` when they are the defaults (the spec then has none). */
export function formConditions(f: FormState): Conditions | undefined {
  const c: Conditions = { ac_power: f.acPower, network: f.network, max_wait_secs: num(f.maxWait), on_timeout: f.onTimeout, random_delay_secs: num(f.randomDelay) };
  return sameSpecValue(c, DEFAULT_CONDITIONS) ? undefined : c;
}

/** A number field's value; NaN when it is not a number (reported by `localErrors`). */
function num(text: string): number {
  return text.trim() === "" ? Number.NaN : Number(text);
}

export function formTrigger(f: FormState): Trigger {
  switch (f.triggerType) {
    case "cron":
      return { type: "cron", expr: f.cronExpr, timezone: f.timezone };
    case "interval":
      return { type: "interval", every: num(f.every), unit: f.unit, anchor: f.anchor };
    case "once":
      return { type: "once", at: f.onceAt };
    case "manual":
      return { type: "manual" };
    case "after_job":
      return { type: "after_job", job_id: f.afterJobId, on: f.chainOn };
    case "at_start":
      return { type: "at_start", delay_secs: num(f.eventDelay) };
    case "on_wake":
      return { type: "on_wake", delay_secs: num(f.eventDelay) };
    case "file_arrives":
      return { type: "file_arrives", folder: f.watchFolder, glob: f.watchGlob, settle_secs: num(f.settle) };
  }
}

function formKind(f: FormState): JobKind {
  if (f.kindType === "command") {
    const program: Program =
      f.programMode === "exec"
        ? { mode: "exec", program: f.program, args: f.args.map((a) => a.value) }
        : {
            mode: "script",
            interpreter: f.interpreter === "custom" ? { custom: f.customInterpreter } : f.interpreter,
            body: f.body,
          };
    return { type: "command", program, working_dir: f.workingDir, env: fromRows(f.env) };
  }
  return {
    type: "http",
    method: f.method,
    url: f.url,
    headers: fromRows(f.headers),
    body: f.httpBody,
    expect_status: { min: num(f.expectMin), max: num(f.expectMax) },
    body_contains: f.bodyContains,
    log_body_kib: num(f.logBodyKib),
    ...(f.caBundle.trim() === "" ? {} : { ca_bundle: f.caBundle.trim() }),
  };
}

export function formToSpec(f: FormState): JobSpec {
  return {
    name: f.name,
    description: f.description,
    tags: [...f.tags],
    enabled: f.enabled,
    kind: formKind(f),
    trigger: formTrigger(f),
    policies: {
      timeout_secs: f.timeout.trim() === "" ? null : num(f.timeout),
      retry: {
        max_attempts: num(f.maxAttempts),
        initial_delay_secs: num(f.initialDelay),
        multiplier: num(f.multiplier),
        max_delay_secs: num(f.maxDelay),
      },
      overlap: f.overlap,
      missed: { mode: f.missedMode, max_catch_up: num(f.maxCatchUp), grace_secs: num(f.grace) },
      notify: f.notify,
      ...withConditions(formConditions(f)),
    },
  };
}

const withConditions = (conditions: Conditions | undefined) => (conditions === undefined ? {} : { conditions });

/** Problems the engine could not even be asked about: numbers that are not numbers, a missing
 * date. Everything else is the engine's to judge. */
export function localErrors(f: FormState): FieldError[] {
  const errors: FieldError[] = [];
  const number = (field: string, text: string, optional = false) => {
    if (optional && text.trim() === "") return;
    if (!Number.isFinite(num(text))) errors.push({ field, message: text.trim() === "" ? "is required: enter a number" : "must be a number" });
  };
  if (f.kindType === "http") {
    number("kind.expect_status", f.expectMin);
    if (!errors.some((e) => e.field === "kind.expect_status")) number("kind.expect_status", f.expectMax);
    number("kind.log_body_kib", f.logBodyKib);
  }
  if (f.triggerType === "interval") number("trigger.every", f.every);
  if (f.triggerType === "at_start" || f.triggerType === "on_wake") number("trigger.delay_secs", f.eventDelay);
  if (f.triggerType === "file_arrives") number("trigger.settle_secs", f.settle);
  if (f.triggerType === "once" && f.onceAt === "") errors.push({ field: "trigger.at", message: "is required: choose a date and time" });
  if (f.triggerType === "after_job" && f.afterJobId === "") errors.push({ field: "trigger", message: "choose the job this one runs after" });
  number("policies.timeout_secs", f.timeout, true);
  number("policies.retry.max_attempts", f.maxAttempts);
  number("policies.retry.initial_delay_secs", f.initialDelay);
  number("policies.retry.multiplier", f.multiplier);
  number("policies.retry.max_delay_secs", f.maxDelay);
  number("policies.missed.max_catch_up", f.maxCatchUp);
  number("policies.missed.grace_secs", f.grace);
  number("policies.conditions.max_wait_secs", f.maxWait);
  number("policies.conditions.random_delay_secs", f.randomDelay);
  return errors;
}

/** Same spec, compared by value: what decides whether the form has unsaved changes. */
export function sameSpec(a: JobSpec, b: JobSpec): boolean {
  return sameSpecValue(a, b);
}

function sameSpecValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

// ----- times --------------------------------------------------------------------------------

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** A UTC instant as the value of a datetime-local input, in the system's zone. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const base = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getSeconds() === 0 ? base : `${base}:${pad(d.getSeconds())}`;
}

/** A datetime-local value (the system's zone) as UTC RFC 3339 without milliseconds; "" if empty. */
export function fromLocalInput(value: string): string {
  if (value === "") return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function formatParts(y: number, mo: number, d: number, time: string, offset: string): string {
  const weekday = WEEKDAYS[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()] ?? "";
  return `${weekday} ${d} ${MONTHS[mo - 1] ?? ""} ${y}, ${time} (UTC${offset})`;
}

/** An RFC 3339 time with its offset, rendered as written in that zone (never converted):
 * `2026-03-29T03:30:00+03:00` → "Sun 29 Mar 2026, 03:30 (UTC+03:00)". */
export function formatLocal(rfc3339: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.exec(rfc3339);
  if (!m) return rfc3339;
  const [, y, mo, d, h, mi, s, off] = m;
  const time = s && s !== "00" ? `${h}:${mi}:${s}` : `${h}:${mi}`;
  const offset = off === undefined || off.toUpperCase() === "Z" ? "+00:00" : off;
  return formatParts(Number(y), Number(mo), Number(d), time, offset);
}

/** A UTC instant in the system's zone, in the same words as `formatLocal`. */
export function formatInSystemZone(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const minutes = -at.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const offset = `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
  const time = at.getSeconds() === 0 ? `${pad(at.getHours())}:${pad(at.getMinutes())}` : `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  return formatParts(at.getFullYear(), at.getMonth() + 1, at.getDate(), time, offset);
}

/** The single wall-clock time of a fixed-time cron expression ("15 3 * * *" → "03:15"). */
export function fixedCronTime(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  const [sec, min, hour] = fields.length === 6 ? fields : fields.length === 5 ? ["0", ...fields] : [];
  if (!sec || !min || !hour || ![sec, min, hour].every((x) => /^\d{1,2}$/.test(x))) return null;
  const base = `${pad(Number(hour))}:${pad(Number(min))}`;
  return Number(sec) === 0 ? base : `${base}:${pad(Number(sec))}`;
}
