import { describe, expect, it } from "vitest";
import type { JobSpec } from "../../bindings/JobSpec";
import { fixedCronTime, formatLocal, formToSpec, fromLocalInput, newJobForm, sameSpec, specToForm, toLocalInput } from "./form";
import { replaceMask } from "./fields";
import { placeErrors } from "./errors";

const base = formToSpec(newJobForm());

describe("form conversions", () => {
  const specs: JobSpec[] = [
    base,
    {
      ...base,
      name: "Everything",
      tags: ["a", "b c"],
      enabled: false,
      kind: { type: "command", program: { mode: "script", interpreter: "pwsh", body: "Get-Date\r\n" }, working_dir: "", env: [{ name: "A", value: "", secret: false }] },
      trigger: { type: "interval", every: 90, unit: "seconds", anchor: "2026-01-01T00:00:00Z" },
      policies: { ...base.policies, timeout_secs: 0, retry: { max_attempts: 5, initial_delay_secs: 0, multiplier: 1.25, max_delay_secs: 7 } },
    },
    {
      ...base,
      kind: { type: "http", method: "GET", url: "http://x", headers: [], body: "", expect_status: { min: 100, max: 599 }, body_contains: "", log_body_kib: 0 },
      trigger: { type: "after_job", job_id: "01J", on: "any" },
    },
    { ...base, trigger: { type: "once", at: "2027-06-01T10:00:00.500Z" } },
    { ...base, trigger: { type: "manual" } },
  ];
  it.each(specs.map((s, i) => [i, s] as const))("round-trips spec %i exactly", (_, spec) => {
    expect(formToSpec(specToForm(spec))).toEqual(spec);
    expect(sameSpec(formToSpec(specToForm(spec)), spec)).toBe(true);
  });

  it("formats a local time as written, without converting zones", () => {
    expect(formatLocal("2026-03-29T03:30:00+03:00")).toBe("Sun 29 Mar 2026, 03:30 (UTC+03:00)");
    expect(formatLocal("2026-03-29T03:30:15-04:30")).toBe("Sun 29 Mar 2026, 03:30:15 (UTC-04:30)");
    expect(formatLocal("2026-01-01T00:00:00Z")).toBe("Thu 1 Jan 2026, 00:00 (UTC+00:00)");
  });

  it("converts datetime-local values to UTC and back", () => {
    const utc = fromLocalInput("2030-05-06T07:08");
    expect(utc).toMatch(/^2030-05-0\dT\d\d:08:00Z$/);
    expect(toLocalInput(utc)).toBe("2030-05-06T07:08");
    expect(fromLocalInput("")).toBe("");
  });

  it("finds the wall time of a fixed-time cron expression", () => {
    expect(fixedCronTime("15 3 * * *")).toBe("03:15");
    expect(fixedCronTime("30 15 3 * * *")).toBe("03:15:30");
    expect(fixedCronTime("*/5 3 * * *")).toBeNull();
    expect(fixedCronTime("@daily")).toBeNull();
  });

  it("replaces the secret mask instead of appending to it", () => {
    expect(replaceMask("••••••", "••••••a")).toBe("a");
    expect(replaceMask("••••••", "•••••")).toBe("");
    expect(replaceMask("••••••", "pasted")).toBe("pasted");
    expect(replaceMask("abc", "abcd")).toBe("abcd");
  });

  it("places row errors under their row and unknown ones in the summary", () => {
    const form = specToForm({ ...base, kind: { type: "command", program: { mode: "exec", program: "x", args: ["a"] }, working_dir: null, env: [{ name: "", value: "", secret: false }] } });
    const placed = placeErrors(
      [
        { field: "kind.env[0].name", message: "is empty" },
        { field: "kind.env[3].name", message: "gone" },
        { field: "kind.program.args[0]", message: "NUL" },
        { field: "tags[1]", message: "bad tag" },
        { field: "kind.url", message: "not http" },
      ],
      form,
    );
    expect(placed.byPath).toEqual({ "kind.env[0].name": "is empty", "kind.program.args[0]": "NUL", tags: "bad tag" });
    expect(placed.unplaced.map((e) => e.field)).toEqual(["kind.env[3].name", "kind.url"]);
  });
});
