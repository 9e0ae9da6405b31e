import { describe, expect, it } from "vitest";
import type { Run } from "../../bindings/Run";
import type { RunWait } from "../../bindings/RunWait";
import { runStatusLabel } from "../jobs/format";
import { formatDuration, formatResources, waitNote } from "./format";

const measured = (cpu_ms: number | null, peak_memory_bytes: number | null) => ({ cpu_ms, peak_memory_bytes }) as Run;

describe("formatResources", () => {
  it("shows CPU seconds and peak memory", () => {
    expect(formatResources(measured(840, 213 * 2 ** 20))).toBe("0.84 s · 213 MiB");
    expect(formatResources(measured(12_500, 3 * 2 ** 30))).toBe("12.50 s · 3.0 GiB");
    expect(formatResources(measured(0, 1500))).toBe("0.00 s · 2 KiB");
  });
  it("is empty for a run that was not measured", () => {
    expect(formatResources(measured(null, null))).toBeNull();
  });
});

describe("formatDuration", () => {
  it("shows milliseconds under a second, never 0s", () => {
    expect(formatDuration(0)).toBe("0 ms");
    expect(formatDuration(7)).toBe("7 ms");
    expect(formatDuration(245)).toBe("245 ms");
    expect(formatDuration(999.6)).toBe("1.0s");
  });
  it("shows tenths under ten seconds, then whole units", () => {
    expect(formatDuration(1000)).toBe("1.0s");
    expect(formatDuration(4_290)).toBe("4.2s");
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(185_000)).toBe("3m 05s");
    expect(formatDuration(2 * 3600_000 + 7 * 60_000)).toBe("2h 07m");
    expect(formatDuration(76 * 3600_000)).toBe("3d 4h");
  });
});

const waiting = (status: Run["status"], wait: Partial<RunWait>, started_at: string | null = null) =>
  ({ status, started_at, wait: { start_after: null, waiting_for: null, wait_until: null, ...wait } }) as Run;

describe("a run waiting for its conditions", () => {
  it("says what a queued run waits for, in the jobs list and history", () => {
    expect(runStatusLabel(waiting("queued", { waiting_for: "ac_power" }))).toBe("Waiting for AC power");
    expect(runStatusLabel(waiting("queued", { waiting_for: "network" }))).toBe("Waiting for network");
    const now = Date.parse("2026-12-03T10:00:00Z");
    expect(runStatusLabel(waiting("queued", { start_after: "2026-12-03T10:05:00Z" }), now)).toBe("Random delay");
    expect(runStatusLabel(waiting("queued", { start_after: "2026-12-03T09:55:00Z" }), now)).toBe("Queued");
  });
  it("says only its status once it started or ended", () => {
    expect(runStatusLabel(waiting("succeeded", { waiting_for: "ac_power" }, "2026-12-03T10:00:00Z"))).toBe("Succeeded");
    expect(runStatusLabel(waiting("skipped", { waiting_for: "network" }))).toBe("Skipped");
  });
  it("tells in the tooltip until when it waits, or that it waited", () => {
    expect(waitNote(waiting("queued", { waiting_for: "network", wait_until: "2026-12-03T11:00:00Z" }))).toMatch(/^Waiting for network until /);
    expect(waitNote(waiting("succeeded", { waiting_for: "ac_power" }, "2026-12-03T10:00:00Z"))).toBe("Started after waiting for AC power");
    expect(waitNote(waiting("skipped", { waiting_for: "ac_power" }))).toBe("Waited for AC power");
    expect(waitNote(waiting("succeeded", {}, "2026-12-03T10:00:00Z"))).toBeNull();
  });
});
