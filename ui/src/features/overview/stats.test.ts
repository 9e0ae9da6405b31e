import { describe, expect, it } from "vitest";
import { formatRate, isSlow, median, outcomeWords, type RunLike } from "./stats";

const run = (status: RunLike["status"], exit_code: number | null = null, http_status: number | null = null): RunLike => ({
  id: "r",
  status,
  scheduled_for: "2026-12-01T00:00:00Z",
  started_at: "2026-12-01T00:00:00Z",
  finished_at: "2026-12-01T00:00:01Z",
  exit_code,
  http_status,
});

describe("overview numbers", () => {
  it("takes the median of odd and even counts", () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it("calls a run slow past twice the median and a second more", () => {
    expect(isSlow(9_000, 400)).toBe(true);
    expect(isSlow(1_300, 400)).toBe(false); // over twice, but not a second longer
    expect(isSlow(15_000, 10_000)).toBe(false);
  });
  it("never rounds one failure up to 100% or one success down to 0%", () => {
    expect(formatRate({ succeeded: 299, failed: 1 }).value).toBe("99%");
    expect(formatRate({ succeeded: 1, failed: 299 }).value).toBe("1%");
    expect(formatRate({ succeeded: 3, failed: 0 })).toEqual({ value: "100%", detail: "3 of 3 runs succeeded" });
    expect(formatRate({ succeeded: 0, failed: 0 })).toEqual({ value: "—", detail: "no runs ended" });
  });
  it("says an outcome in words with its exit code or HTTP status", () => {
    expect(outcomeWords(run("succeeded", 0))).toBe("Succeeded");
    expect(outcomeWords(run("failed", 2))).toBe("Failed with exit code 2");
    expect(outcomeWords(run("failed", null, 503))).toBe("Failed with HTTP status 503");
    expect(outcomeWords(run("timed_out"))).toBe("Timed out");
  });
});
