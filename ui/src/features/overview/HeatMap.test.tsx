import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { BackendProvider } from "../../ipc";
import { FakeBackend } from "../../ipc/fake";
import { HeatMap, dayTone, firstDay } from "./HeatMap";

function renderHeatMap(backend: FakeBackend, jobId: string | null, today: Date) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <HeatMap jobId={jobId} weeks={4} today={today} />
      </QueryClientProvider>
    </BackendProvider>,
  );
}

const at = (day: number, hour: number) => new Date(2026, 10, day, hour).toISOString();

function tones(): Record<string, string> {
  return Object.fromEntries(screen.getAllByTestId("heatmap-day").map((d) => [d.dataset.day ?? "", d.dataset.tone ?? ""]));
}

describe("calendar heat map", () => {
  // Thursday 26 Nov 2026: four weeks drawn from Monday 2 Nov to today.
  const today = new Date(2026, 10, 26, 15, 0);

  function seeded() {
    const backend = new FakeBackend();
    const a = backend.addJob({ name: "a" });
    const b = backend.addJob({ name: "b" });
    for (let h = 0; h < 12; h++) backend.addRun(a.id, at(10, h), 100); // a busy good day
    backend.addRun(a.id, at(11, 9), 100);
    backend.addRun(a.id, at(12, 9), 100);
    backend.addRun(a.id, at(12, 10), 100, "failed"); // half failed
    for (let h = 0; h < 10; h++) backend.addRun(a.id, at(13, h), 100, h === 0 ? "timed_out" : "succeeded"); // one in ten
    backend.addRun(b.id, at(16, 9), 100, "failed"); // all failed, job b only
    backend.addRun(a.id, at(17, 9), 100, "skipped"); // a skipped firing is no run
    return { backend, a, b };
  }

  it("shades each day by its runs and failures from the engine's per-day counts", async () => {
    const { backend, a } = seeded();
    const daily = vi.spyOn(backend, "dailyOutcomes");
    renderHeatMap(backend, a.id, today);
    await waitFor(() => expect(tones()["2026-11-10"]).toBe("ok3"));
    const t = tones();
    expect(Object.keys(t)).toHaveLength(4 * 7 - 3); // up to and with today, a Thursday
    expect(Object.keys(t)[0]).toBe("2026-11-02");
    expect(t["2026-11-11"]).toBe("ok1");
    expect(t["2026-11-12"]).toBe("many-failed");
    expect(t["2026-11-13"]).toBe("some-failed");
    expect(t["2026-11-16"]).toBe("none"); // job b's failure is not job a's
    expect(t["2026-11-17"]).toBe("none");
    expect(daily).toHaveBeenCalledTimes(1);
    expect(daily.mock.calls[0]?.[0]).toBe(a.id);
    const twelfth = screen.getAllByTestId("heatmap-day").find((d) => d.dataset.day === "2026-11-12");
    expect(twelfth?.textContent).toMatch(/: 2 runs, 1 failed$/);
    expect(screen.getByTestId("heatmap-summary").textContent).toBe("25 runs in 4 weeks · 2 failed, on 2 days");
  });

  it("counts every job when it is for all of them", async () => {
    const { backend } = seeded();
    renderHeatMap(backend, null, today);
    await waitFor(() => expect(tones()["2026-11-16"]).toBe("all-failed"));
    expect(screen.getByTestId("heatmap-summary").textContent).toBe("26 runs in 4 weeks · 3 failed, on 3 days");
  });

  it("starts on a Monday and grades busy days against the busiest", () => {
    expect(firstDay(new Date(2026, 10, 26), 1).getDay()).toBe(1);
    expect(firstDay(new Date(2026, 10, 30), 2)).toEqual(new Date(2026, 10, 23));
    expect(dayTone({ day: "d", runs: 10, succeeded: 10, failed: 0 }, 10)).toBe("ok3");
    expect(dayTone({ day: "d", runs: 1, succeeded: 1, failed: 0 }, 10)).toBe("ok1");
    expect(dayTone({ day: "d", runs: 4, succeeded: 3, failed: 1 }, 10)).toBe("many-failed");
    expect(dayTone(undefined, 10)).toBe("none");
  });
});
