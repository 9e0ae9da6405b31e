import { QueryClient } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { App } from "../../App";
import type { RunMark } from "../../bindings/RunMark";
import { FakeBackend, fakeLog } from "../../ipc/fake";
import { gapsOfLedger } from "./gaps";
import { TimelineChart } from "./TimelineChart";
import { ticks, windowAt } from "./scale";
import { type ChartViewport, ChartViewportContext } from "./viewport";

const HOUR = 3_600_000;
/** Tests that click through many states of the whole app: room for a loaded machine. */
const STEPS_TIMEOUT = 20_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function renderTimeline(backend: FakeBackend, viewport?: ChartViewport) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const app = <App backend={backend} queryClient={queryClient} initialRoute={{ screen: "timeline" }} />;
  return render(viewport ? <ChartViewportContext.Provider value={viewport}>{app}</ChartViewportContext.Provider> : app);
}

/** A scroll view `height` px tall over a chart drawn 1000 px wide (viewBox units are px), its
 * top `top` px below the chart's (jsdom has no layout of its own). */
function scrollView(height: number) {
  const watchers = new Set<() => void>();
  const view = {
    top: 0,
    measure: () => ({ top: view.top, height, width: 1000 }),
    scrollBy: (_chart: Element, dy: number) => {
      view.top += dy;
    },
    watch: (_chart: Element, onChange: () => void) => {
      watchers.add(onChange);
      return () => {
        watchers.delete(onChange);
      };
    },
    /** Scrolled by the user: the chart hears of it. */
    scrollTo: (top: number) => {
      view.top = top;
      act(() => watchers.forEach((w) => w()));
    },
  };
  return view;
}

/** Which of `rows` rows (22 units of axis, then 28 per row) a view shows, whole or in part. */
function rowsShown(view: { top: number }, height: number, rows: number): number[] {
  const first = Math.max(0, Math.floor((view.top - 22) / 28));
  const last = Math.min(rows - 1, Math.floor((view.top + height - 22) / 28));
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** `n` jobs named "Job 00" onwards (rows in that order). */
function manyJobs(backend: FakeBackend, n: number) {
  return Array.from({ length: n }, (_, i) => backend.addJob({ name: `Job ${String(i).padStart(2, "0")}` }));
}

const rowNames = () => screen.queryAllByTestId("timeline-row").map((r) => r.querySelector("title")?.textContent ?? "");

/** The window the chart shows. */
function shownWindow() {
  const chart = screen.getByTestId("timeline-chart");
  return { from: Date.parse(chart.dataset.from ?? ""), to: Date.parse(chart.dataset.to ?? "") };
}

/** Drags the chart by `dx` pixels (jsdom has no layout: the chart counts as 1000 px wide). */
function drag(dx: number, steps = 4) {
  const chart = screen.getByTestId("timeline-chart");
  fireEvent.pointerDown(chart, { button: 0, clientX: 500, pointerId: 1 });
  for (let i = 1; i <= steps; i++) fireEvent.pointerMove(chart, { clientX: 500 + (dx * i) / steps, pointerId: 1 });
  fireEvent.pointerUp(chart, { clientX: 500 + dx, pointerId: 1 });
}

function seeded() {
  const backend = new FakeBackend();
  const sync = backend.addJob({ name: "Hourly sync" });
  const nightly = backend.addJob({ name: "Nightly export" });
  backend.addJob({ name: "Idle job" });
  const ok = backend.addRun(sync.id, ago(3 * HOUR), 400);
  const bad = backend.addRun(sync.id, ago(2 * HOUR), 900, "failed");
  const old = backend.addRun(nightly.id, ago(30 * HOUR), 60_000);
  backend.upcoming = [{ job_id: nightly.id, at: new Date(Date.now() + HOUR).toISOString() }];
  return { backend, sync, nightly, ok, bad, old };
}

describe("timeline", () => {
  it("shades one stretch per wake from the missed-run ledger, saying why and how much was missed", async () => {
    const { backend, sync, nightly } = seeded();
    const noticed = ago(4 * HOUR);
    const entry = (job_id: string, gap_start: string, missed: number, ran: number) => ({
      run_id: `01GAP${job_id}`,
      job_id,
      gap_start,
      noticed_at: noticed,
      first_slot: gap_start,
      last_slot: noticed,
      missed,
      counted_all: true,
      cause: "asleep" as const,
      policy: "run_once" as const,
      ran,
    });
    // The hourly job last fired an hour before the lid closed; the sleep began 12 h ago.
    backend.gaps = [entry(sync.id, ago(12 * HOUR), 8, 1), entry(nightly.id, ago(13 * HOUR), 1, 0)];
    // The history row standing for an entry is not drawn as a bar: the stretch says it.
    const ledgerRow = backend.addRun(sync.id, ago(12 * HOUR), 8 * HOUR, "skipped");
    (backend.gaps[0] as { run_id: string }).run_id = ledgerRow.id;
    renderTimeline(backend);
    const gap = await screen.findByTestId("timeline-gap");
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(2));
    expect(screen.getAllByTestId("timeline-gap")).toHaveLength(1);
    expect(gap.textContent).toContain("Asleep — 2 jobs missed 9 firings, 1 caught up");
    expect(gap.querySelector("text")?.textContent).toBe("Asleep");
    // The stretch begins at the latest start (the sleep), not the nightly job's older one.
    expect(gapsOfLedger(backend.gaps)).toEqual([
      { start: backend.gaps[0]?.gap_start, end: noticed, label: "Asleep", detail: "Asleep — 2 jobs missed 9 firings, 1 caught up" },
    ]);
  });

  it("draws the last day's runs per job, failures flagged, and what is due after now", async () => {
    const { backend, ok, bad } = seeded();
    const timeline = vi.spyOn(backend, "timeline");
    renderTimeline(backend);
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(2));
    // Asked once (the fetch begun before the first paint is the one the screen's query uses).
    expect(timeline).toHaveBeenCalledTimes(1);
    const call = timeline.mock.calls.at(-1);
    if (!call) throw new Error("no timeline query");
    // The view is the last day (and a little after now); the data fetched covers it with a
    // margin for dragging, within the engine's 15 days.
    const view = shownWindow();
    expect(view.to - view.from).toBe(24 * HOUR);
    expect(view.to).toBeGreaterThan(Date.now());
    expect(Date.parse(call[0])).toBeLessThanOrEqual(view.from);
    expect(Date.parse(call[1])).toBeGreaterThanOrEqual(view.to);
    expect(Date.parse(call[1]) - Date.parse(call[0])).toBeLessThanOrEqual(2 * 24 * HOUR);
    const bars = screen.getAllByTestId("timeline-bar");
    expect(bars.map((b) => b.dataset.runId).sort()).toEqual([ok.id, bad.id].sort());
    const failed = bars.find((b) => b.dataset.status === "failed");
    expect(failed?.getAttribute("class")).toContain("fill-red-600");
    expect(screen.getByTestId("timeline-failures").textContent).toBe(" · 1 failed");
    // Rows: only jobs with something in the window, by name.
    expect(screen.getAllByTestId("timeline-row").map((r) => r.textContent)).toEqual(["Hourly syncHourly sync", "Nightly exportNightly export"]);
    expect(screen.getAllByTestId("timeline-upcoming")).toHaveLength(1);
    expect(screen.getByTestId("timeline-now")).toBeTruthy();
  });

  it("shows a run on hover and opens its log on click", async () => {
    const { backend, bad } = seeded();
    backend.logs.set(bad.id, fakeLog([{ number: 0, time: bad.scheduled_for, stream: "stderr", continued: false, text: "upstream 502" }]));
    renderTimeline(backend);
    const bar = await waitFor(() => {
      const found = screen.getAllByTestId("timeline-bar").find((b) => b.dataset.runId === bad.id);
      if (!found) throw new Error("no bar yet");
      return found;
    });
    fireEvent.mouseEnter(bar);
    expect(screen.getByTestId("timeline-hover").textContent).toMatch(/^Hourly sync · Failed · .* · 900 ms$/);
    fireEvent.click(bar);
    expect(await screen.findByText("upstream 502")).toBeTruthy();
  });

  it("zooms to a week and an hour and pans half a window at a time", async () => {
    const { backend, old } = seeded();
    const timeline = vi.spyOn(backend, "timeline");
    renderTimeline(backend);
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(2));
    fireEvent.click(screen.getByTestId("zoom-week"));
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(3));
    expect(screen.getAllByTestId("timeline-bar").some((b) => b.dataset.runId === old.id)).toBe(true);
    const week = shownWindow();
    expect(Math.round((week.to - week.from) / HOUR)).toBe(7 * 24);
    const fetched = timeline.mock.calls.at(-1);
    expect(fetched && Date.parse(fetched[1]) - Date.parse(fetched[0])).toBeLessThanOrEqual(15 * 24 * HOUR);
    fireEvent.click(screen.getByTestId("pan-earlier"));
    await waitFor(() => expect(shownWindow().to).toBeLessThan(week.to));
    expect(Math.round((week.to - shownWindow().to) / HOUR)).toBe(84);
    expect(screen.getByTestId("pan-now").hasAttribute("disabled")).toBe(false);
    fireEvent.click(screen.getByTestId("pan-now"));
    await waitFor(() => expect(Math.abs(shownWindow().to - week.to)).toBeLessThan(60_000));
    fireEvent.click(screen.getByTestId("zoom-hour"));
    await waitFor(() => expect(shownWindow().to - shownWindow().from).toBe(HOUR));
    await waitFor(() => expect(screen.queryAllByTestId("timeline-bar")).toHaveLength(0));
    expect(timeline).toHaveBeenCalled();
  }, STEPS_TIMEOUT);

  it("pans with a drag, following the pointer, and a drag opens no log", async () => {
    const { backend, old } = seeded();
    const timeline = vi.spyOn(backend, "timeline");
    renderTimeline(backend);
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(2));
    const before = shownWindow();
    const calls = timeline.mock.calls.length;
    // Dragging right shows earlier times: 83 px of the 830 px axis is a tenth of the day.
    drag(83);
    await waitFor(() => expect(before.from - shownWindow().from).toBeCloseTo(2.4 * HOUR, -4));
    expect(shownWindow().to - shownWindow().from).toBe(24 * HOUR);
    // Within the margin fetched, a drag asks the engine for nothing new.
    expect(timeline.mock.calls.length).toBe(calls);
    // Far enough back, the 30-hour-old run comes into view.
    drag(300);
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar").some((b) => b.dataset.runId === old.id)).toBe(true));
    expect(screen.getByTestId("pan-now").hasAttribute("disabled")).toBe(false);
    // Releasing a drag over a bar does not open its log.
    const bar = screen.getAllByTestId("timeline-bar")[0] as Element;
    fireEvent.pointerDown(bar, { button: 0, clientX: 500, pointerId: 2 });
    fireEvent.pointerMove(bar, { clientX: 440, pointerId: 2 });
    fireEvent.pointerUp(bar, { clientX: 440, pointerId: 2 });
    fireEvent.click(bar);
    expect(screen.getByTestId("timeline-chart")).toBeTruthy();
    // A click without moving still opens it.
    fireEvent.click(bar);
    await screen.findByTestId("log-viewer");
  }, STEPS_TIMEOUT);

  it("moves what is drawn with the pointer during a drag and changes the view once, at the end", async () => {
    const { backend, sync } = seeded();
    // Out of the view (it starts 21 h ago), in the data fetched with it.
    const yesterday = backend.addRun(sync.id, ago(24 * HOUR), 400);
    renderTimeline(backend);
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(2));
    const drawn = (id: string) => screen.getAllByTestId("timeline-bar").some((b) => b.dataset.runId === id);
    expect(drawn(yesterday.id)).toBe(false);
    const before = shownWindow();
    const chart = screen.getByTestId("timeline-chart");
    fireEvent.pointerDown(chart, { button: 0, clientX: 500, pointerId: 3 });
    fireEvent.pointerMove(chart, { clientX: 583, pointerId: 3 });
    fireEvent.pointerMove(chart, { clientX: 666, pointerId: 3 });
    // The group of bars, ticks and gaps follows the pointer (a fifth of the 830-unit axis);
    // the view is where it was, with a window's width drawn on each side (yesterday's run is
    // there, clipped, ready to come into view).
    const moving = () => chart.querySelector("g[transform]");
    expect(moving()?.getAttribute("transform")).toBe("translate(166 0)");
    expect(shownWindow()).toEqual(before);
    expect(drawn(yesterday.id)).toBe(true);
    fireEvent.pointerUp(chart, { clientX: 666, pointerId: 3 });
    await waitFor(() => expect(before.from - shownWindow().from).toBeCloseTo(4.8 * HOUR, -4));
    expect(moving()).toBeNull();
    // Released 4.8 h earlier: yesterday's run is in the view now.
    expect(drawn(yesterday.id)).toBe(true);
    expect(screen.getAllByTestId("timeline-bar")).toHaveLength(3);
  }, STEPS_TIMEOUT);

  it("pans with ← and → and zooms with + and -", async () => {
    const { backend } = seeded();
    renderTimeline(backend);
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(2));
    const day = shownWindow();
    fireEvent.keyDown(window, { key: "ArrowLeft" });
    await waitFor(() => expect(day.to - shownWindow().to).toBe(12 * HOUR));
    fireEvent.keyDown(window, { key: "ArrowRight" });
    await waitFor(() => expect(shownWindow().to).toBe(day.to));
    fireEvent.keyDown(window, { key: "+" });
    await waitFor(() => expect(shownWindow().to - shownWindow().from).toBe(HOUR));
    expect(screen.getByTestId("zoom-hour").getAttribute("aria-checked")).toBe("true");
    fireEvent.keyDown(window, { key: "-" });
    fireEvent.keyDown(window, { key: "-" });
    await waitFor(() => expect(shownWindow().to - shownWindow().from).toBe(7 * 24 * HOUR));
    // Panned, a zoom keeps the middle of the view where it was.
    fireEvent.keyDown(window, { key: "ArrowLeft" });
    await waitFor(() => expect(screen.getByTestId("pan-now").hasAttribute("disabled")).toBe(false));
    const week = shownWindow();
    fireEvent.keyDown(window, { key: "+" });
    await waitFor(() => expect(shownWindow().to - shownWindow().from).toBe(24 * HOUR));
    const middle = (w: { from: number; to: number }) => (w.from + w.to) / 2;
    expect(Math.abs(middle(shownWindow()) - middle(week))).toBeLessThan(60_000);
  }, STEPS_TIMEOUT);

  it("reaches every bar from the keyboard, says what it is, and opens its log with Enter", async () => {
    const { backend, sync, ok, bad } = seeded();
    const later = backend.addRun(sync.id, ago(HOUR), 300);
    const other = backend.addJob({ name: "Zebra report" });
    const zebra = backend.addRun(other.id, ago(2 * HOUR + 60_000), 2_000, "timed_out");
    backend.logs.set(zebra.id, fakeLog([{ number: 0, time: zebra.scheduled_for, stream: "stderr", continued: false, text: "took too long" }]));
    renderTimeline(backend);
    await waitFor(() => expect(screen.getAllByTestId("timeline-bar")).toHaveLength(4));
    const bar = (id: string) => {
      const found = screen.getAllByTestId("timeline-bar").find((b) => b.dataset.runId === id);
      if (!found) throw new Error(`no bar ${id}`);
      return found;
    };
    // One bar is in the Tab order (the newest); the others are reached with the arrows.
    const tabbable = screen.getAllByTestId("timeline-bar").filter((b) => b.getAttribute("tabindex") === "0");
    expect(tabbable.map((b) => b.dataset.runId)).toEqual([later.id]);
    expect(bar(bad.id).getAttribute("aria-label")).toMatch(/^Hourly sync · Failed · .* · 900 ms$/);
    expect(bar(bad.id).getAttribute("role")).toBe("button");
    bar(later.id).focus();
    await waitFor(() => expect(screen.getByTestId("timeline-focus-ring")).toBeTruthy());
    expect(screen.getByTestId("timeline-hover").textContent).toMatch(/^Hourly sync · Succeeded/);
    fireEvent.keyDown(bar(later.id), { key: "ArrowLeft" });
    await waitFor(() => expect(document.activeElement).toBe(bar(bad.id)));
    fireEvent.keyDown(bar(bad.id), { key: "ArrowLeft" });
    await waitFor(() => expect(document.activeElement).toBe(bar(ok.id)));
    expect(bar(ok.id).getAttribute("tabindex")).toBe("0");
    // The arrows moved the focus, not the view.
    expect(screen.getByTestId("pan-now").hasAttribute("disabled")).toBe(true);
    fireEvent.keyDown(bar(ok.id), { key: "End" });
    await waitFor(() => expect(document.activeElement).toBe(bar(later.id)));
    // Down: the nearest run in time in the next row (by name: Zebra report).
    fireEvent.keyDown(bar(bad.id), { key: "ArrowDown" });
    await waitFor(() => expect(document.activeElement).toBe(bar(zebra.id)));
    expect(bar(zebra.id).getAttribute("aria-label")).toMatch(/^Zebra report · Timed out · .* · 2\.0s$/);
    fireEvent.keyDown(bar(zebra.id), { key: "Enter" });
    expect(await screen.findByText("took too long")).toBeTruthy();
  }, STEPS_TIMEOUT);

  it("draws only the rows its scroll view shows (and a few past each edge), the others as it scrolls", async () => {
    const backend = new FakeBackend();
    const jobs = manyJobs(backend, 60);
    // The newest run (the Tab stop) is Job 00's; every job has one run in the day.
    const runs = jobs.map((job, i) => backend.addRun(job.id, ago(2 * HOUR + i * 60_000), 400));
    const view = scrollView(300);
    renderTimeline(backend, view);
    await waitFor(() => expect(rowNames()).toContain("Job 00"));
    const drawnBars = () => screen.getAllByTestId("timeline-bar").map((b) => b.dataset.runId);
    const check = () => {
      const shown = rowsShown(view, 300, 60);
      const names = rowNames();
      for (const row of shown) expect(names).toContain(jobs[row]?.name);
      // The view's ~11 rows, 6 past each edge, and the Tab stop's row wherever it is.
      expect(names.length).toBeLessThanOrEqual(shown.length + 12 + 1);
      const expected = names.map((name) => runs[jobs.findIndex((j) => j.name === name)]?.id);
      expect(drawnBars().sort()).toEqual(expected.sort());
    };
    check();
    expect(rowNames()).not.toContain("Job 30");
    expect(rowNames()).not.toContain("Job 59");
    // The chart is as tall as every row: the scroll view can reach them.
    expect(screen.getByTestId("timeline-chart").getAttribute("viewBox")).toBe(`0 0 1000 ${22 + 60 * 28 + 4}`);
    view.scrollTo(1_000);
    await waitFor(() => expect(rowNames()).toContain("Job 40"));
    check();
    expect(rowNames()).not.toContain("Job 10");
    expect(rowNames()).not.toContain("Job 59");
    // The Tab stop's row is drawn wherever the view is, so that Tab reaches the chart.
    expect(rowNames()).toContain("Job 00");
    view.scrollTo(22 + 60 * 28 + 4 - 300);
    await waitFor(() => expect(rowNames()).toContain("Job 59"));
    check();
    // The count says every run in the window, drawn or not.
    expect(screen.getByTestId("timeline-hover").textContent).toMatch(/^60 runs /);
  }, STEPS_TIMEOUT);

  it("moves the focus with the arrows to a bar in a row not drawn, scrolling it into view", async () => {
    const backend = new FakeBackend();
    const jobs = manyJobs(backend, 60);
    const top = backend.addRun((jobs[0] as { id: string }).id, ago(HOUR), 400);
    const far = backend.addRun((jobs[40] as { id: string }).id, ago(HOUR + 60_000), 400, "failed");
    // Jobs 01–39 have only a firing to come: rows without bars between the two.
    backend.upcoming = jobs.slice(1, 40).map((job) => ({ job_id: job.id, at: new Date(Date.now() + HOUR).toISOString() }));
    const view = scrollView(300);
    renderTimeline(backend, view);
    const bar = (id: string) => screen.getAllByTestId("timeline-bar").find((b) => b.dataset.runId === id);
    await waitFor(() => expect(bar(top.id)).toBeTruthy());
    expect(bar(far.id)).toBeUndefined();
    expect(rowNames()).not.toContain("Job 40");
    bar(top.id)?.focus();
    await waitFor(() => expect(screen.getByTestId("timeline-focus-ring")).toBeTruthy());
    fireEvent.keyDown(bar(top.id) as Element, { key: "ArrowDown" });
    // Row 40 (units 1142–1170) is scrolled into the 300 px view, drawn, and its bar focused.
    await waitFor(() => expect(document.activeElement).toBe(bar(far.id)));
    expect(view.top).toBeLessThanOrEqual(22 + 40 * 28);
    expect(view.top + 300).toBeGreaterThanOrEqual(22 + 41 * 28);
    expect(rowsShown(view, 300, 60)).toContain(40);
    expect(rowNames()).toContain("Job 40");
    expect(bar(far.id)?.getAttribute("tabindex")).toBe("0");
    expect(screen.getByTestId("timeline-hover").textContent).toMatch(/^Job 40 · Failed/);
    // And back up: the first row comes into view again, its bar focused.
    fireEvent.keyDown(bar(far.id) as Element, { key: "ArrowUp" });
    await waitFor(() => expect(document.activeElement).toBe(bar(top.id)));
    expect(view.top).toBeLessThanOrEqual(22);
    // The one Tab stop moved with the focus.
    expect(screen.getAllByTestId("timeline-bar").filter((b) => b.getAttribute("tabindex") === "0").map((b) => b.dataset.runId)).toEqual([top.id]);
  }, STEPS_TIMEOUT);

  it("shades and labels the gaps it is given (when Sundial was asleep or closed)", () => {
    const now = Date.parse("2026-12-02T12:00:00Z");
    const w = windowAt("day", now, 0);
    const run: RunMark = {
      id: "r1",
      job_id: "j1",
      status: "succeeded",
      scheduled_for: "2026-12-02T08:00:00Z",
      started_at: "2026-12-02T08:00:00Z",
      finished_at: "2026-12-02T08:00:01Z",
      exit_code: 0,
      http_status: null,
    };
    render(
      <TimelineChart
        jobs={[{ id: "j1", name: "Job" }]}
        runs={[run]}
        upcoming={[]}
        gaps={[
          { start: "2026-12-02T01:00:00Z", end: "2026-12-02T06:30:00Z", label: "Asleep: 5 firings missed" },
          { start: "2026-11-20T01:00:00Z", end: "2026-11-20T02:00:00Z", label: "Outside the window" },
        ]}
        window={w}
        zoom="day"
        now={now}
        onOpen={() => undefined}
      />,
    );
    const gaps = screen.getAllByTestId("timeline-gap");
    expect(gaps).toHaveLength(1);
    const gap = gaps[0] as HTMLElement;
    expect(gap.textContent).toContain("Asleep: 5 firings missed");
    const rect = within(gap).getByText((_, el) => el?.tagName.toLowerCase() === "rect");
    // 5.5 h of a 24 h window 830 units wide.
    expect(Number(rect.getAttribute("width"))).toBeCloseTo((5.5 / 24) * 830, 0);
  });

  it("ticks on local hour and midnight boundaries", () => {
    const w = { from: new Date(2026, 11, 1, 13, 20).getTime(), to: new Date(2026, 11, 2, 13, 20).getTime() };
    const day = ticks("day", w).map((t) => new Date(t).getHours());
    expect(day).toEqual([15, 18, 21, 0, 3, 6, 9, 12]);
    const week = ticks("week", { from: w.from - 6 * 24 * HOUR, to: w.to });
    expect(week.every((t) => new Date(t).getHours() === 0 && new Date(t).getMinutes() === 0)).toBe(true);
    expect(week).toHaveLength(7);
  });
});
