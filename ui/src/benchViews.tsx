import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { type Route, useNavigation } from "./app/navigation";
import { useBackend } from "./ipc";
import type { Backend } from "./ipc/backend";

declare global {
  interface Window {
    /** Set only under benchmark B9 (src-tauri/src/bench.rs): takes the driver's JSON report. */
    __SUNDIAL_BENCH_VIEWS__?: (report: string) => void;
    __SUNDIAL_BENCH_VIEWS_REPEAT__?: number;
  }
}

/** How long one screen may take before the driver gives up and reports why. */
const STEP_TIMEOUT_MS = 60_000;
const PAN_FRAMES = 120;

const frame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));
const count = (testId: string) => document.querySelectorAll(`[data-testid="${testId}"]`).length;
const one = (selector: string) => document.querySelector(selector);

/** Resolves in the first frame after `ready` holds, so the frame showing it has been painted:
 * checked once per frame, from `t0` (the navigation), in ms. */
async function paintedAfter(t0: number, what: string, ready: () => boolean): Promise<number> {
  for (;;) {
    await frame();
    if (ready()) {
      await frame();
      return performance.now() - t0;
    }
    if (performance.now() - t0 > STEP_TIMEOUT_MS) throw new Error(`${what}: not shown within ${STEP_TIMEOUT_MS} ms`);
  }
}

/** The next message-channel turn: after the tasks already queued (React's render of an update
 * made earlier in the frame is one). */
function afterQueuedTasks(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

interface Measured {
  overview: number[];
  overview_heatmap: number[];
  timeline_day_chart: number[];
  timeline_day: number[];
  timeline_week: number[];
  pan_work: number[];
  pan_interval: number[];
  bars_day: number;
  bars_week: number;
  pan_moved: boolean;
  /** For context: the screens' main questions to the engine alone (IPC and SQLite), no page. */
  query_overview: number[];
  query_timeline_day: number[];
  error: string | null;
}

async function drive(
  backend: Backend,
  client: QueryClient,
  navigate: (to: Route) => void,
  repeat: number,
): Promise<Measured> {
  const m: Measured = {
    overview: [],
    overview_heatmap: [],
    timeline_day_chart: [],
    timeline_day: [],
    timeline_week: [],
    pan_work: [],
    pan_interval: [],
    bars_day: 0,
    bars_week: 0,
    pan_moved: false,
    query_overview: [],
    query_timeline_day: [],
    error: null,
  };
  const settled = () => client.isFetching() === 0;
  /** Back to the jobs list, settled, then an empty cache: the next screen fetches everything. */
  const fromColdCache = async () => {
    navigate({ screen: "jobs" });
    await paintedAfter(performance.now(), "the jobs list", () => count("job-row") > 0 && settled());
    client.clear();
  };
  await paintedAfter(performance.now(), "the jobs list", () => count("job-row") > 0 && settled());
  const jobs = await backend.listJobs();
  // The job with the most recent runs (every seeded job has as many).
  const job = jobs[Math.floor(jobs.length / 2)]?.job;
  if (!job) throw new Error("no jobs listed");
  for (let i = 0; i < repeat; i++) {
    await fromColdCache();
    const t0 = performance.now();
    navigate({ screen: "job", jobId: job.id, tab: "overview" });
    let heatmap = 0;
    m.overview.push(
      await paintedAfter(t0, "the overview", () => {
        if (heatmap === 0 && one('[data-testid="heatmap"][data-state="loaded"]')) heatmap = performance.now() - t0;
        return count("strip-run") > 0 && count("duration-bar") > 0 && heatmap > 0 && count("log-tail") > 0 && settled();
      }),
    );
    m.overview_heatmap.push(heatmap);
  }
  for (let i = 0; i < repeat; i++) {
    await fromColdCache();
    const t0 = performance.now();
    navigate({ screen: "timeline" });
    let chart = 0;
    m.timeline_day.push(
      await paintedAfter(t0, "the 24 h timeline", () => {
        if (chart === 0 && count("timeline-bar") > 0) chart = performance.now() - t0;
        return chart > 0 && one('[data-testid="heatmap"][data-state="loaded"]') !== null && settled();
      }),
    );
    m.timeline_day_chart.push(chart);
    m.bars_day = count("timeline-bar");
    // Zoomed out to the week, its data not fetched yet.
    client.removeQueries({ queryKey: ["timeline"] });
    const week = one('[data-testid="zoom-week"]') as HTMLElement | null;
    if (!week) throw new Error("no week zoom");
    const t1 = performance.now();
    week.click();
    m.timeline_week.push(
      await paintedAfter(
        t1,
        "the 7 d timeline",
        () => one('[data-testid="zoom-week"][aria-checked="true"]') !== null && count("timeline-bar") > 0 && settled(),
      ),
    );
    m.bars_week = count("timeline-bar");
  }
  // The same questions straight to the engine: the day's timeline as the screen fetches it.
  const chartNow = one('[data-testid="timeline-chart"]') as HTMLElement | null;
  const viewFrom = Date.parse(chartNow?.dataset.from ?? "");
  const span = 24 * 3_600_000;
  for (let i = 0; i < repeat; i++) {
    let t0 = performance.now();
    await backend.jobOverview(job.id);
    m.query_overview.push(performance.now() - t0);
    t0 = performance.now();
    await backend.timeline(new Date(viewFrom - span / 4).toISOString(), new Date(viewFrom + (3 * span) / 2).toISOString());
    m.query_timeline_day.push(performance.now() - t0);
  }
  // Panning: back at 24 h (cached), the chart dragged one step per frame.
  (one('[data-testid="zoom-day"]') as HTMLElement | null)?.click();
  await paintedAfter(performance.now(), "the 24 h timeline again", () => one('[data-testid="zoom-day"][aria-checked="true"]') !== null && settled());
  const svg = one('[data-testid="timeline-chart"]');
  if (!svg) throw new Error("no timeline chart");
  const box = svg.getBoundingClientRect();
  const y = box.top + box.height / 2;
  const x0 = box.left + box.width / 2;
  const range = () => one('[data-testid="timeline-range"]')?.textContent ?? "";
  const before = range();
  const pointer = (type: string, x: number) =>
    svg.dispatchEvent(new PointerEvent(type, { pointerId: 7, pointerType: "mouse", isPrimary: true, button: 0, buttons: 1, clientX: x, clientY: y, bubbles: true, cancelable: true }));
  pointer("pointerdown", x0);
  let last = await frame();
  for (let i = 1; i <= PAN_FRAMES; i++) {
    const start = await frame();
    m.pan_interval.push(start - last);
    last = start;
    // Dragging right: earlier hours come into view. The chart applies the move in its next
    // frame; this frame renders the move of the one before.
    pointer("pointermove", x0 - 200 + ((i * 3) % 400));
    await afterQueuedTasks();
    svg.getBoundingClientRect();
    m.pan_work.push(performance.now() - start);
  }
  pointer("pointerup", x0);
  await frame();
  m.pan_moved = range() !== before;
  return m;
}

/**
 * Benchmark B9's driver: mounted only when the app was started with SUNDIAL_BENCH_VIEWS_FILE
 * (the page then has `__SUNDIAL_BENCH_VIEWS__`). It opens a job's overview and the timeline
 * (24 h, 7 d) from an empty query cache, `__SUNDIAL_BENCH_VIEWS_REPEAT__` times each, timing the
 * navigation to the first painted frame with every query answered, drags the timeline, and
 * reports once.
 */
export function BenchViews() {
  const backend = useBackend();
  const client = useQueryClient();
  const { navigate } = useNavigation();
  const navigateRef = useRef(navigate);
  useEffect(() => {
    navigateRef.current = navigate;
  }, [navigate]);
  useEffect(() => {
    const report = window.__SUNDIAL_BENCH_VIEWS__;
    if (!report) return;
    const repeat = window.__SUNDIAL_BENCH_VIEWS_REPEAT__ ?? 5;
    void drive(backend, client, (to) => navigateRef.current(to), repeat)
      .catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }))
      .then((m) => report(JSON.stringify(m)));
  }, [backend, client]);
  return null;
}
