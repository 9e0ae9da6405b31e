import { QueryClient } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App, REFRESH_COALESCE_MS } from "../../App";
import type { LogLine } from "../../bindings/LogLine";
import { FakeBackend, fakeLog } from "../../ipc/fake";

function renderJob(backend: FakeBackend, jobId: string) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<App backend={backend} queryClient={queryClient} initialRoute={{ screen: "job", jobId, tab: "overview" }} />);
}

const HOUR = 3_600_000;

function line(number: number, text: string, stream: LogLine["stream"] = "stdout"): LogLine {
  return { number, time: new Date().toISOString(), stream, continued: false, text };
}

/** A job that ran every hour for the last `count` hours: every 7th failed, the 20th slow. */
function jobWithHistory(backend: FakeBackend, count: number) {
  const job = backend.addJob({ name: "Hourly sync", trigger: { type: "cron", expr: "0 * * * *", timezone: "Europe/Riga" } }, "Every hour (Europe/Riga)");
  const now = Date.now();
  const runs = [];
  for (let i = count; i >= 1; i--) {
    const at = new Date(now - i * HOUR).toISOString();
    const status = i % 7 === 0 ? "failed" : "succeeded";
    runs.push(backend.addRun(job.id, at, i === 20 ? 9_000 : 400 + (i % 5) * 10, status));
  }
  return { job, runs };
}

describe("job overview", () => {
  it("opens on the overview with its state, next firings and their DST notes", async () => {
    const backend = new FakeBackend();
    const { job } = jobWithHistory(backend, 3);
    backend.nextFires.set(job.id, [
      { at: "2026-03-29T00:00:00Z", local: "2026-03-29T02:00:00+02:00", dst: null },
      { at: "2026-03-29T01:00:00Z", local: "2026-03-29T04:00:00+03:00", dst: "moved_after_gap" },
    ]);
    renderJob(backend, job.id);
    const state = await screen.findByTestId("overview-state");
    await waitFor(() => expect(within(state).getAllByTestId("fire-time")).toHaveLength(2));
    expect(within(state).getByTestId("overview-enabled").textContent).toBe("Enabled");
    await waitFor(() => expect(within(state).getByTestId("overview-schedule").textContent).toBe("Every hour (Europe/Riga)"));
    expect(within(state).getByTestId("dst-note").textContent).toContain("moved after the DST gap");
    expect(screen.getByTestId("tab-overview").getAttribute("aria-selected")).toBe("true");
  });

  it("strips the last 50 runs oldest first, coloured by status, each a link to its log", async () => {
    const backend = new FakeBackend();
    const { job, runs } = jobWithHistory(backend, 60);
    const newestFailed = runs.filter((r) => r.status === "failed").at(-1);
    if (!newestFailed) throw new Error("no failed run");
    backend.logs.set(newestFailed.id, fakeLog([line(0, "connecting"), line(1, "refused: the server is down", "stderr")]));
    renderJob(backend, job.id);
    const strip = await screen.findByTestId("run-strip");
    const cells = within(strip).getAllByTestId("strip-run");
    expect(cells).toHaveLength(50);
    expect(cells.map((c) => c.dataset.runId)).toEqual(runs.slice(-50).map((r) => r.id));
    const failed = cells.filter((c) => c.dataset.status === "failed");
    expect(failed).toHaveLength(runs.slice(-50).filter((r) => r.status === "failed").length);
    expect(failed[0]?.className).toContain("bg-red-600");
    expect(failed[0]?.getAttribute("title")).toMatch(/^Failed · .* · \d+ ms$/);

    const cell = cells.find((c) => c.dataset.runId === newestFailed.id);
    if (!cell) throw new Error("no cell for the failed run");
    fireEvent.click(cell);
    expect(await screen.findByText("refused: the server is down")).toBeTruthy();
  });

  it("charts durations with the median and marks the slow run", async () => {
    const backend = new FakeBackend();
    const { job, runs } = jobWithHistory(backend, 30);
    renderJob(backend, job.id);
    const chart = await screen.findByTestId("duration-chart");
    const bars = within(chart).getAllByTestId("duration-bar");
    expect(bars).toHaveLength(30);
    const slow = bars.filter((b) => b.dataset.slow === "true");
    expect(slow).toHaveLength(1);
    // The slow one is the 9-second run; its tooltip says so.
    const slowRun = runs.find((r) => r.finished_at && Date.parse(r.finished_at) - Date.parse(r.scheduled_for) === 9_000);
    expect(slow[0]?.textContent).toContain("9.0s · slow");
    expect(slowRun).toBeDefined();
    expect(within(chart).getByTestId("duration-median")).toBeTruthy();
    expect(screen.getByTestId("duration-summary").textContent).toMatch(/^Median 4\d0 ms over the last 30 runs · 1 slow run/);
  });

  it("gives success rates over 7 and 30 days from the engine's counts", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Mixed" });
    const day = 86_400_000;
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    backend.addRun(job.id, ago(20 * day), 100, "failed");
    backend.addRun(job.id, ago(20 * day - HOUR), 100, "failed");
    backend.addRun(job.id, ago(3 * day), 100, "succeeded");
    backend.addRun(job.id, ago(2 * day), 100, "timed_out");
    backend.addRun(job.id, ago(day), 100, "succeeded");
    backend.addRun(job.id, ago(HOUR), 100, "cancelled");
    renderJob(backend, job.id);
    const week = await screen.findByTestId("rate-7");
    await waitFor(() => expect(week.textContent).toBe("67%7 days: 2 of 3 runs succeeded"));
    expect(screen.getByTestId("rate-30").textContent).toBe("40%30 days: 2 of 5 runs succeeded");
  });

  it("shows the end of the last run's log", async () => {
    const backend = new FakeBackend();
    const { job, runs } = jobWithHistory(backend, 2);
    const last = runs.at(-1);
    if (!last) throw new Error("no run");
    backend.logs.set(last.id, fakeLog(Array.from({ length: 40 }, (_, n) => line(n, `row ${n}`))));
    renderJob(backend, job.id);
    const tail = await screen.findByTestId("log-tail");
    await waitFor(() => expect(tail.children).toHaveLength(12));
    expect(tail.firstElementChild?.textContent).toBe("row 28");
    expect(tail.lastElementChild?.textContent).toBe("row 39");
  });

  it("shows the chain: the job it runs after and the jobs after it, with their last status", async () => {
    const backend = new FakeBackend();
    const producer = backend.addJob({ name: "Producer" });
    const processor = backend.addJob({ name: "Processor", trigger: { type: "after_job", job_id: producer.id, on: "success" } });
    const storer = backend.addJob({ name: "Storer", trigger: { type: "after_job", job_id: processor.id, on: "any" } });
    backend.addRun(producer.id, new Date(Date.now() - HOUR).toISOString(), 100, "succeeded");
    backend.addRun(storer.id, new Date(Date.now() - HOUR).toISOString(), 100, "failed");
    renderJob(backend, processor.id);
    const chain = await screen.findByTestId("overview-chain");
    await waitFor(() => expect(within(chain).getAllByTestId("chain-job")).toHaveLength(2));
    const [up, down] = within(chain).getAllByTestId("chain-job") as [HTMLElement, HTMLElement];
    expect(up.textContent).toBe("After Producer✓ Succeeded");
    expect(down.textContent).toBe("Then Storer✕ Failed");
    fireEvent.click(within(down).getByText("Storer"));
    await waitFor(() => expect(screen.getByTestId("job-title").textContent).toBe("Storer"));
  });

  it("after Run now shows the run going, then its outcome in words with a link to its log", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Quick" });
    renderJob(backend, job.id);
    fireEvent.click(await screen.findByTestId("job-run-now"));
    const notice = await screen.findByTestId("started-run");
    expect(notice.dataset.status).toBe("running");
    expect(screen.getByTestId("started-run-words").textContent).toBe("The run you started is going…");
    const run = backend.runs.at(-1);
    if (!run) throw new Error("no run started");
    backend.logs.set(run.id, fakeLog([line(0, "exit in a moment")]));
    act(() => backend.finishRun(run.id, "failed", 2));
    await waitFor(
      () => expect(screen.getByTestId("started-run-words").textContent).toMatch(/^The run you started: Failed with exit code 2 after \d+ ms\.$/),
      { timeout: REFRESH_COALESCE_MS + 2000 },
    );
    fireEvent.click(screen.getByTestId("started-run-log"));
    expect(await screen.findByText("exit in a moment")).toBeTruthy();
  });

  it("has one Run now and one way back, also on the Settings tab", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Once" });
    renderJob(backend, job.id);
    fireEvent.click(await screen.findByTestId("tab-edit"));
    await screen.findByTestId("editor-title");
    expect(screen.getAllByText(/Run now$/)).toHaveLength(1);
    expect(screen.getAllByText("Run now with…")).toHaveLength(1);
    expect(screen.queryByTestId("editor-cancel")).toBeNull();
    expect(screen.getAllByRole("button", { name: "Back" })).toHaveLength(1);
  });
});
