import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { NavigationProvider, useNavigation } from "../../app/navigation";
import type { Run } from "../../bindings/Run";
import type { RunQuery } from "../../bindings/RunQuery";
import { BackendProvider } from "../../ipc";
import { FakeBackend } from "../../ipc/fake";
import { RunHistory } from "./RunHistory";

// jsdom has no layout: give every element a size so the virtualizer has a viewport
// (600px tall = 15 rows of 40px). The virtualizer reads client sizes; offset ones for good measure.
const SIZES = { clientHeight: 600, clientWidth: 1000, offsetHeight: 600, offsetWidth: 1000 } as const;
const saved = new Map<string, PropertyDescriptor | undefined>();
beforeAll(() => {
  for (const [name, value] of Object.entries(SIZES)) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else Reflect.deleteProperty(HTMLElement.prototype, name);
  }
});
afterEach(() => {
  vi.useRealTimers();
});

/** A run with a time-sortable id: a higher `n` is newer. */
function makeRun(n: number, jobId: string, overrides: Partial<Run> = {}): Run {
  const scheduled = new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
  return {
    // Sorts before the fake's own ids ("01FAKE…"), so runs it starts are the newest.
    id: `01AAAA${String(n).padStart(20, "0")}`,
    job_id: jobId,
    job_revision: 1,
    reason: "schedule",
    attempt: 1,
    parent_run_id: null,
    scheduled_for: scheduled,
    created_at: scheduled,
    started_at: scheduled,
    finished_at: new Date(Date.parse(scheduled) + 5_000).toISOString(),
    status: "succeeded",
    exit_code: 0,
    http_status: null,
    error: null,
    log_bytes: 10,
    log_lines: 1,
    cpu_ms: 840,
    peak_memory_bytes: 213 * 2 ** 20,
    overrides: null,
    trigger_path: null,
    wait: { start_after: null, waiting_for: null, wait_until: null },
    ...overrides,
  };
}

function RouteProbe() {
  const { route } = useNavigation();
  return <pre data-testid="route">{JSON.stringify(route)}</pre>;
}

function renderHistory(backend: FakeBackend, jobId?: string) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <NavigationProvider initial={{ screen: "history" }}>
          <div style={{ height: 600 }}>{jobId === undefined ? <RunHistory /> : <RunHistory jobId={jobId} />}</div>
          <RouteProbe />
        </NavigationProvider>
      </QueryClientProvider>
    </BackendProvider>,
  );
}

function lastQuery(spy: { mock: { calls: Array<[RunQuery]> } }): RunQuery {
  const call = spy.mock.calls.at(-1);
  if (!call) throw new Error("listRuns was not called");
  return call[0];
}

function rowOf(runId: string): HTMLElement {
  const row = screen.getAllByTestId("history-row").find((r) => r.dataset.runId === runId);
  if (!row) throw new Error(`no row for ${runId}`);
  return row;
}

describe("run history", () => {
  it("gives every cell that can be cut a tooltip with its whole text, and quick runs their milliseconds", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "A job with a long name that the column cuts" });
    const scheduled = new Date(Date.UTC(2026, 0, 1, 12, 19, 44)).toISOString();
    backend.runs.push(
      makeRun(1, job.id, {
        scheduled_for: scheduled,
        started_at: scheduled,
        finished_at: new Date(Date.parse(scheduled) + 245).toISOString(),
        reason: "manual",
        error: "a long error text that does not fit the column",
      }),
    );
    renderHistory(backend);
    const row = await screen.findByTestId("history-row");
    await waitFor(() => expect(within(row).getByTestId("history-job").textContent).toContain("long name"));
    expect(within(row).getByTestId("history-duration").textContent).toBe("245 ms");
    const cells = within(row).getAllByRole("cell");
    const withText = cells.filter((c) => (c.textContent ?? "").trim() !== "" && c.querySelector("button") === null);
    expect(withText.length).toBeGreaterThanOrEqual(8);
    for (const cell of withText) {
      const titled = cell.getAttribute("title") ?? cell.querySelector("[title]")?.getAttribute("title") ?? "";
      expect(titled, `the cell "${cell.textContent}" has no tooltip`).not.toBe("");
    }
    expect(within(row).getByTestId("history-job").getAttribute("title")).toBe("A job with a long name that the column cuts");
    expect(within(row).getByTestId("history-reason").getAttribute("title")).toBe("Run by hand");
    expect(within(row).getByTestId("history-duration").getAttribute("title")).toBe("245 ms");
  });

  it("shows each run's status, job, reason, duration, result and error", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Backup" });
    job.policies.retry.max_attempts = 3;
    backend.runs.push(
      makeRun(1, job.id, { finished_at: new Date(Date.UTC(2026, 0, 1, 0, 2, 5)).toISOString() }),
      makeRun(2, job.id, {
        status: "failed",
        exit_code: null,
        http_status: 503,
        reason: "retry",
        attempt: 2,
        error: "the server answered 503 Service Unavailable",
      }),
      makeRun(3, job.id, { status: "queued", started_at: null, finished_at: null, exit_code: null }),
    );
    renderHistory(backend);
    const rows = await screen.findAllByTestId("history-row");
    expect(rows.map((r) => r.dataset.status)).toEqual(["queued", "failed", "succeeded"]);
    const [queued, failed, succeeded] = rows as [HTMLElement, HTMLElement, HTMLElement];

    expect(within(succeeded).getByTestId("history-status").textContent).toBe("Succeeded");
    expect(within(succeeded).getByTestId("history-duration").textContent).toBe("1m 05s");
    expect(within(succeeded).getByTestId("history-result").textContent).toBe("exit 0");
    await waitFor(() => expect(within(succeeded).getByTestId("history-job").textContent).toBe("Backup"));

    expect(within(failed).getByTestId("history-status").textContent).toBe("Failed");
    expect(within(failed).getByTestId("history-result").textContent).toBe("HTTP 503");
    expect(within(failed).getByTestId("history-reason").textContent).toBe("Retry · attempt 2 of 3");
    const error = within(failed).getByTestId("history-error");
    expect(error.getAttribute("title")).toBe("the server answered 503 Service Unavailable");

    expect(within(queued).getByTestId("history-duration").textContent).toBe("—");
    expect(within(queued).getByTestId("history-result").textContent).toBe("—");
    expect(within(queued).getByRole("button", { name: /^Cancel run/ })).toBeTruthy();
    expect(within(succeeded).queryByRole("button", { name: /^Cancel run/ })).toBeNull();
    expect(screen.getByTestId("history-count").textContent).toBe("3 runs loaded · end of history");
  });

  it("counts a running run's duration up every second", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ["setInterval", "clearInterval", "Date"] });
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Long" });
    const started = new Date(Date.now() - 5_000).toISOString();
    backend.runs.push(makeRun(1, job.id, { status: "running", started_at: started, finished_at: null, exit_code: null }));
    renderHistory(backend);
    const duration = await screen.findByTestId("history-duration");
    expect(duration.textContent).toMatch(/^[56]\.\ds$/);
    act(() => {
      vi.advanceTimersByTime(60_000);
    });
    expect(screen.getByTestId("history-duration").textContent).toMatch(/^1m 0[56]s$/);
  });

  it("sends the status filter to the engine and shows only matching runs", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Sync" });
    for (let n = 1; n <= 30; n++) {
      backend.runs.push(makeRun(n, job.id, n % 3 === 0 ? { status: "failed", exit_code: 1 } : n % 5 === 0 ? { status: "timed_out", exit_code: null } : {}));
    }
    const listRuns = vi.spyOn(backend, "listRuns");
    renderHistory(backend);
    await screen.findAllByTestId("history-row");
    expect(lastQuery(listRuns).statuses).toBeUndefined();

    fireEvent.click(screen.getByTestId("history-filter-failed"));
    expect(screen.getByTestId("history-filter-failed").getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(lastQuery(listRuns).statuses).toEqual(["failed"]));
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(10));
    expect(new Set(screen.getAllByTestId("history-row").map((r) => r.dataset.status))).toEqual(new Set(["failed"]));

    fireEvent.click(screen.getByTestId("history-filter-timed_out"));
    await waitFor(() => expect(lastQuery(listRuns).statuses).toEqual(["failed", "timed_out"]));
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(14));
    expect(screen.getAllByTestId("history-status").map((c) => c.textContent)).toContain("Timed out");
  });

  it("sends the time filter as `from` (and `to` for a custom range)", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Sync" });
    const hour = 3_600_000;
    const now = Date.now();
    for (const [n, ago] of [[1, 50 * hour], [2, 30 * hour], [3, 2 * hour], [4, 0.5 * hour]] as const) {
      backend.runs.push(makeRun(n, job.id, { scheduled_for: new Date(now - ago).toISOString() }));
    }
    const listRuns = vi.spyOn(backend, "listRuns");
    renderHistory(backend);
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(4));

    fireEvent.change(screen.getByLabelText("Time"), { target: { value: "24h" } });
    await waitFor(() => expect(lastQuery(listRuns).from).toBeDefined());
    const from = Date.parse(lastQuery(listRuns).from ?? "");
    expect(Math.abs(from - (now - 24 * hour))).toBeLessThan(60_000);
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(2));

    fireEvent.change(screen.getByLabelText("Time"), { target: { value: "custom" } });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-03-01T08:00" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-03-02T08:00" } });
    await waitFor(() =>
      expect(lastQuery(listRuns)).toMatchObject({
        from: new Date("2025-03-01T08:00").toISOString(),
        to: new Date("2025-03-02T08:00").toISOString(),
      }),
    );
    expect(await screen.findByText("No runs match these filters")).toBeTruthy();
    fireEvent.click(within(screen.getByTestId("history-empty")).getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(4));
    expect(lastQuery(listRuns).from).toBeUndefined();
  });

  it("pages back in time with keyset pages, without duplicates", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Every minute" });
    for (let n = 1; n <= 1_050; n++) backend.runs.push(makeRun(n, job.id));
    const listRuns = vi.spyOn(backend, "listRuns");
    renderHistory(backend);

    const first = await screen.findAllByTestId("history-row");
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(60); // virtualized: only the rows in view (plus overscan)
    expect(listRuns).toHaveBeenCalledTimes(1);
    expect(lastQuery(listRuns)).toEqual({ limit: 200 });
    expect(screen.getByTestId("history-count").textContent).toBe("200 runs loaded");

    // Scroll to the end of the first page: the next one is fetched from its last id.
    const scroller = screen.getByTestId("history-scroll");
    act(() => {
      scroller.scrollTop = 200 * 40 - 600;
      fireEvent.scroll(scroller);
    });
    await waitFor(() => expect(listRuns).toHaveBeenCalledTimes(2));
    expect(lastQuery(listRuns)).toEqual({ limit: 200, before: makeRun(851, job.id).id });
    await waitFor(() => expect(screen.getByTestId("history-count").textContent).toBe("400 runs loaded"));
    expect(rowOf(makeRun(851, job.id).id)).toBeTruthy();

    // "Load more" works too, down to the end of history.
    for (let page = 3; page <= 6; page++) {
      fireEvent.click(await screen.findByTestId("history-load-more"));
      await waitFor(() => expect(listRuns).toHaveBeenCalledTimes(page));
    }
    await waitFor(() => expect(screen.getByTestId("history-count").textContent).toMatch(/^1.050 runs loaded · end of history$/));
    expect(screen.queryByTestId("history-load-more")).toBeNull();

    const pages = await Promise.all(listRuns.mock.results.map((r) => r.value as Promise<Run[]>));
    const ids = pages.flat().map((r) => r.id);
    expect(ids).toHaveLength(1_050);
    expect(new Set(ids).size).toBe(1_050);
    for (let i = 1; i < pages.length; i++) {
      expect(listRuns.mock.calls[i]?.[0].before).toBe(pages[i - 1]?.at(-1)?.id);
    }
  });

  it("cancels a running run through the backend", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Long" });
    const run = await backend.runJobNow(job.id);
    renderHistory(backend);
    const row = await screen.findByTestId("history-row");
    expect(row.dataset.status).toBe("running");
    fireEvent.click(within(row).getByRole("button", { name: "Cancel run: Long, " + within(row).getAllByRole("cell")[3]?.textContent }));
    await waitFor(() => expect(screen.getByTestId("history-row").dataset.status).toBe("cancelled"));
    expect(backend.calls).toContain("cancelRun");
    expect(backend.runs.find((r) => r.id === run.id)?.status).toBe("cancelled");
    expect(within(screen.getByTestId("history-row")).queryByTestId("history-cancel")).toBeNull();
  });

  it("opens a run's log from its button and with Enter on the row", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Report" });
    backend.runs.push(makeRun(1, job.id), makeRun(2, job.id));
    renderHistory(backend);
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(2));

    const older = rowOf(makeRun(1, job.id).id);
    fireEvent.click(within(older).getByRole("button", { name: /^Open log of run: Report, / }));
    expect(JSON.parse(screen.getByTestId("route").textContent ?? "")).toEqual({
      screen: "log",
      source: { kind: "run", run_id: makeRun(1, job.id).id },
    });

    const newer = rowOf(makeRun(2, job.id).id);
    older.focus();
    fireEvent.keyDown(older, { key: "ArrowUp" });
    expect(document.activeElement).toBe(newer);
    fireEvent.keyDown(newer, { key: "Enter" });
    expect(JSON.parse(screen.getByTestId("route").textContent ?? "")).toEqual({
      screen: "log",
      source: { kind: "run", run_id: makeRun(2, job.id).id },
    });
  });

  it("shows one job's runs with a Run now button", async () => {
    const backend = new FakeBackend();
    const mine = backend.addJob({ name: "Mine" });
    const other = backend.addJob({ name: "Other" });
    backend.runs.push(makeRun(1, mine.id), makeRun(2, other.id), makeRun(3, mine.id));
    const listRuns = vi.spyOn(backend, "listRuns");
    renderHistory(backend, mine.id);
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(2));
    expect(lastQuery(listRuns)).toEqual({ job_id: mine.id, limit: 200 });
    expect(screen.queryByTestId("history-job")).toBeNull();
    expect(screen.queryByRole("columnheader", { name: "Job" })).toBeNull();

    fireEvent.click(screen.getByTestId("history-run-now"));
    await waitFor(() => expect(screen.getAllByTestId("history-row")).toHaveLength(3));
    expect(backend.calls).toContain("runJobNow");
    expect(screen.getAllByTestId("history-row")[0]?.dataset.status).toBe("running");
    expect(backend.runs.at(-1)?.job_id).toBe(mine.id);
  });

  it("says when there are no runs yet", async () => {
    renderHistory(new FakeBackend());
    expect(await screen.findByText("No runs yet")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Clear filters" })).toBeNull();
  });

  it("says when no run matches the filters and clears them", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Fine" });
    backend.runs.push(makeRun(1, job.id));
    renderHistory(backend);
    await screen.findByTestId("history-row");
    fireEvent.click(screen.getByTestId("history-filter-skipped"));
    expect(await screen.findByText("No runs match these filters")).toBeTruthy();
    fireEvent.click(within(screen.getByTestId("history-empty")).getByRole("button", { name: "Clear filters" }));
    expect(await screen.findByTestId("history-row")).toBeTruthy();
    expect(screen.getByTestId("history-filter-skipped").getAttribute("aria-pressed")).toBe("false");
  });

  it("shows an engine error instead of an empty history", async () => {
    const backend = new FakeBackend();
    backend.listRuns = () => Promise.reject({ code: "io", message: "the database is locked" });
    renderHistory(backend);
    expect((await screen.findByRole("alert")).textContent).toContain("the database is locked");
    expect(screen.queryByText("No runs yet")).toBeNull();
  });
});
