import { describe, expect, it } from "vitest";
import type { Run } from "../../bindings/Run";
import { formatResources } from "./format";

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
