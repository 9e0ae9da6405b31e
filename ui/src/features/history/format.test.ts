import { describe, expect, it } from "vitest";
import type { Run } from "../../bindings/Run";
import { formatDuration, formatResources } from "./format";

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
