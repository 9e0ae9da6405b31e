import { QueryClient } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { App, REFRESH_COALESCE_MS } from "../../App";
import { FakeBackend, fakeLog } from "../../ipc/fake";

function renderApp(backend: FakeBackend) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<App backend={backend} queryClient={queryClient} />);
}

describe("jobs screen", () => {
  it("shows a clear empty state on first start", async () => {
    renderApp(new FakeBackend());
    expect(await screen.findByText("No jobs yet")).toBeTruthy();
    expect(screen.getByTestId("status-line").textContent).toContain("No run scheduled");
  });

  it("lists jobs with schedule in words, next run and last result", async () => {
    const backend = new FakeBackend();
    const tomorrow = new Date(Date.now() + 86_400_000);
    tomorrow.setHours(2, 30, 0, 0);
    backend.addJob({ name: "Nightly export" }, "At 02:30 AM (Europe/Riga)", tomorrow.toISOString());
    const failing = backend.addJob({ name: "Fetch rates" });
    const run = await backend.runJobNow(failing.id);
    backend.finishRun(run.id, "failed", 2);
    renderApp(backend);
    const rows = await screen.findAllByTestId("job-row");
    expect(rows).toHaveLength(2);
    // By name, as the engine lists them.
    const [rates, nightly] = rows as [HTMLElement, HTMLElement];
    expect(within(nightly).getByTestId("job-schedule").textContent).toBe("At 02:30 AM (Europe/Riga)");
    expect(nightly.textContent).toContain("Tomorrow");
    expect(nightly.textContent).toContain("Never run");
    expect(within(rates).getByTestId("last-status").textContent).toBe("Failed");
    expect(screen.getByTestId("status-line").textContent).toContain("Next: Nightly export");
  });

  it("pauses and resumes everything through the backend", async () => {
    const backend = new FakeBackend();
    backend.addJob({ name: "Hourly" }, "Every hour", new Date(Date.now() + 3_600_000).toISOString());
    renderApp(backend);
    const toggle = await screen.findByTestId("pause-toggle");
    expect(toggle.textContent).toBe("Pause all");
    fireEvent.click(toggle);
    await waitFor(() => expect(screen.getByTestId("pause-toggle").textContent).toBe("Resume all"));
    expect(backend.paused).toBe(true);
    expect(screen.getByTestId("paused-badge")).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("job-row").textContent).toContain("Paused"));
    fireEvent.click(screen.getByTestId("pause-toggle"));
    await waitFor(() => expect(screen.getByTestId("pause-toggle").textContent).toBe("Pause all"));
    expect(backend.paused).toBe(false);
    expect(screen.queryByTestId("paused-badge")).toBeNull();
  });

  it("says who schedules when another process does, and when the disk is full", async () => {
    const backend = new FakeBackend();
    renderApp(backend);
    await screen.findByText("No jobs yet");
    expect(screen.queryByTestId("scheduler-notice")).toBeNull();
    backend.scheduler = {
      role: "passive",
      holder: { name: "sundialctl daemon", pid: 4242, host: "laptop", this_host: true, since: new Date().toISOString() },
    };
    backend.storageProblem = "Sundial cannot write to its data folder: the disk is full.";
    act(() => backend.emit({ type: "scheduler_changed" }));
    const notice = await screen.findByTestId("scheduler-notice", {}, { timeout: 2000 });
    expect(notice.textContent).toContain("Scheduling is done by sundialctl daemon, pid 4242 on this machine, since");
    expect(screen.getByTestId("storage-notice").textContent).toContain("the disk is full");
    backend.scheduler = { role: "active", since: new Date().toISOString() };
    backend.storageProblem = null;
    act(() => backend.emit({ type: "storage_changed", problem: null }));
    await waitFor(() => expect(screen.queryByTestId("scheduler-notice")).toBeNull(), { timeout: 2000 });
    expect(screen.queryByTestId("storage-notice")).toBeNull();
  });

  it("refetches when the engine reports a change", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Report" });
    renderApp(backend);
    fireEvent.click(await screen.findByTestId("run-now"));
    await waitFor(() => expect(screen.getByTestId("last-status").textContent).toBe("Running"));
    const run = backend.runs[0];
    if (!run) throw new Error("no run");
    act(() => backend.finishRun(run.id, "succeeded"));
    await waitFor(() => expect(screen.getByTestId("last-status").textContent).toBe("Succeeded"));
    expect(backend.calls).toContain("runJobNow");
    expect(job.name).toBe("Report");
  });

  it("shows an engine error instead of an empty list", async () => {
    const backend = new FakeBackend();
    backend.listJobs = () => Promise.reject({ code: "io", message: "the database is locked" });
    renderApp(backend);
    expect((await screen.findByRole("alert")).textContent).toContain("the database is locked");
    expect(screen.queryByText("No jobs yet")).toBeNull();
  });

  it("toggles a job's enabled flag", async () => {
    const backend = new FakeBackend();
    backend.addJob({ name: "Cleanup" });
    renderApp(backend);
    const box = await screen.findByLabelText("Enabled: Cleanup");
    fireEvent.click(box);
    await waitFor(() => expect(backend.jobs[0]?.job.enabled).toBe(false));
    await waitFor(() => expect(screen.getByTestId("job-row").textContent).toContain("Disabled"));
  });
});

describe("jobs list filters", () => {
  function seeded() {
    const backend = new FakeBackend();
    backend.addJob({ name: "Nightly export", tags: ["finance"], description: "to the warehouse" }, "At 02:30 AM");
    backend.addJob({
      name: "Fetch rates",
      tags: ["finance", "http"],
      kind: { type: "http", method: "GET", url: "https://rates.example/eur", headers: [], body: null, expect_status: { min: 200, max: 299 }, body_contains: null, log_body_kib: 64 },
    });
    backend.addJob({ name: "Cleanup tmp", enabled: false });
    return backend;
  }
  const names = () => screen.getAllByTestId("job-name").map((e) => e.textContent);

  it("narrows by text over name, description and what the job runs", async () => {
    const backend = seeded();
    renderApp(backend);
    await screen.findAllByTestId("job-row");
    fireEvent.change(screen.getByLabelText("Filter jobs"), { target: { value: "warehouse" } });
    expect(names()).toEqual(["Nightly export"]);
    fireEvent.change(screen.getByLabelText("Filter jobs"), { target: { value: "rates.example" } });
    expect(names()).toEqual(["Fetch rates"]);
    fireEvent.change(screen.getByLabelText("Filter jobs"), { target: { value: "nothing like it" } });
    expect(screen.getByTestId("no-match").textContent).toContain("No job matches");
    fireEvent.click(screen.getByText("Clear filters"));
    expect(names()).toHaveLength(3);
  });

  it("narrows by tag and by status", async () => {
    const backend = seeded();
    const rates = backend.jobs[1]?.job;
    if (!rates) throw new Error("no job");
    const run = await backend.runJobNow(rates.id);
    backend.finishRun(run.id, "failed", 1);
    renderApp(backend);
    await screen.findAllByTestId("job-row");
    fireEvent.change(screen.getByLabelText("Filter by tag"), { target: { value: "finance" } });
    expect(names()).toEqual(["Fetch rates", "Nightly export"]);
    fireEvent.change(screen.getByLabelText("Filter by status"), { target: { value: "failing" } });
    expect(names()).toEqual(["Fetch rates"]);
    fireEvent.change(screen.getByLabelText("Filter by tag"), { target: { value: "" } });
    fireEvent.change(screen.getByLabelText("Filter by status"), { target: { value: "disabled" } });
    expect(names()).toEqual(["Cleanup tmp"]);
    fireEvent.change(screen.getByLabelText("Filter by status"), { target: { value: "never" } });
    expect(names()).toEqual(["Cleanup tmp", "Nightly export"]);
  });
});

describe("jobs list pictures and sorting", () => {
  const names = () => screen.getAllByTestId("job-name").map((e) => e.textContent);
  const HOUR = 3_600_000;
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  function listed() {
    const backend = new FakeBackend();
    const alpha = backend.addJob({ name: "Alpha" }, "Every hour", new Date(Date.now() + 3 * HOUR).toISOString());
    const beta = backend.addJob({ name: "beta" }, "Every day", new Date(Date.now() + HOUR).toISOString());
    const gamma = backend.addJob({ name: "Gamma" });
    for (let i = 30; i >= 1; i--) backend.addRun(alpha.id, ago(i * HOUR), 245, i % 10 === 0 ? "failed" : "succeeded");
    backend.addRun(beta.id, ago(2 * HOUR), 61_000, "failed");
    return { backend, alpha, beta, gamma };
  }

  it("strips each job's last 20 runs from one query, with the last run's duration", async () => {
    const { backend, alpha } = listed();
    renderApp(backend);
    const rows = await screen.findAllByTestId("job-row");
    const [alphaRow, betaRow, gammaRow] = rows as [HTMLElement, HTMLElement, HTMLElement];
    await waitFor(() => expect(within(alphaRow).getAllByTestId("strip-run")).toHaveLength(20));
    const cells = within(alphaRow).getAllByTestId("strip-run");
    expect(cells.map((c) => c.dataset.runId)).toEqual(backend.runs.filter((r) => r.job_id === alpha.id).slice(-20).map((r) => r.id));
    expect(cells.filter((c) => c.dataset.status === "failed")).toHaveLength(2);
    expect(within(betaRow).getAllByTestId("strip-run")).toHaveLength(1);
    expect(within(gammaRow).queryAllByTestId("strip-run")).toHaveLength(0);
    expect(within(alphaRow).getByTestId("last-duration").textContent).toBe("took 245 ms");
    expect(within(betaRow).getByTestId("last-duration").textContent).toBe("took 1m 01s");
    expect(backend.calls.filter((c) => c === "runStrips")).toHaveLength(1);
  });

  it("sorts by name, next run, last run and status, each both ways", async () => {
    const { backend } = listed();
    renderApp(backend);
    await screen.findAllByTestId("job-row");
    expect(names()).toEqual(["Alpha", "beta", "Gamma"]);
    expect(screen.getByRole("columnheader", { name: /Name/ }).getAttribute("aria-sort")).toBe("ascending");
    fireEvent.click(screen.getByTestId("sort-name"));
    expect(names()).toEqual(["Gamma", "beta", "Alpha"]);
    fireEvent.click(screen.getByTestId("sort-next"));
    expect(names()).toEqual(["beta", "Alpha", "Gamma"]); // nothing scheduled goes last
    fireEvent.click(screen.getByTestId("sort-next"));
    expect(names()).toEqual(["Alpha", "beta", "Gamma"]);
    expect(screen.getByRole("columnheader", { name: /Next run/ }).getAttribute("aria-sort")).toBe("descending");
    fireEvent.click(screen.getByTestId("sort-last"));
    expect(names()).toEqual(["Alpha", "beta", "Gamma"]); // most recent first, never run last
    fireEvent.click(screen.getByTestId("sort-status"));
    expect(names()).toEqual(["beta", "Alpha", "Gamma"]); // failures first
  });
});

describe("the window", () => {
  it("opens a job on its overview, then its editor and its history, and comes back", async () => {
    const backend = new FakeBackend();
    backend.addJob({ name: "Report" });
    renderApp(backend);
    fireEvent.click(await screen.findByRole("button", { name: "Open Report" }));
    await waitFor(() => expect(screen.getByTestId("job-title").textContent).toBe("Report"));
    expect(await screen.findByTestId("job-overview")).toBeTruthy();
    fireEvent.click(screen.getByTestId("tab-edit"));
    expect(await screen.findByTestId("editor-name")).toBeTruthy();
    fireEvent.click(screen.getByTestId("tab-history"));
    expect(await screen.findByTestId("history")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Back" }));
    expect(await screen.findAllByTestId("job-row")).toHaveLength(1);
    expect(screen.queryByTestId("tab-edit")).toBeNull();
  });

  it("Ctrl+N starts a new job, and a stray click with unsaved changes asks first", async () => {
    const backend = new FakeBackend();
    renderApp(backend);
    await screen.findByText("No jobs yet");
    fireEvent.keyDown(window, { key: "n", ctrlKey: true });
    const name = await screen.findByTestId("editor-name");
    fireEvent.change(name, { target: { value: "Half-typed job" } });
    fireEvent.click(screen.getByTestId("nav-settings"));
    expect(await screen.findByTestId("confirm-dialog")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Keep editing" }));
    await waitFor(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    expect((screen.getByTestId("editor-name") as HTMLInputElement).value).toBe("Half-typed job");
    fireEvent.click(screen.getByTestId("nav-settings"));
    fireEvent.click(await screen.findByTestId("confirm-dialog-confirm"));
    expect(await screen.findByTestId("settings")).toBeTruthy();
    expect(backend.jobs).toHaveLength(0);
  });

  it("follows the theme setting", async () => {
    const backend = new FakeBackend();
    backend.settings = { ...backend.settings, theme: "dark" };
    renderApp(backend);
    await waitFor(() => expect(document.documentElement.classList.contains("dark")).toBe(true));
    cleanup();
    backend.settings = { ...backend.settings, theme: "light" };
    renderApp(backend);
    await waitFor(() => expect(document.documentElement.classList.contains("dark")).toBe(false));
  });

  it("opens the newest application log from the sidebar", async () => {
    const backend = new FakeBackend();
    backend.appLogs.set("2026-11-20", fakeLog([]));
    backend.appLogs.set("2026-11-21", fakeLog([{ number: 0, time: "", stream: "stdout", continued: false, text: "Sundial is ready" }]));
    renderApp(backend);
    fireEvent.click(await screen.findByTestId("nav-app-log"));
    expect(await screen.findByText("Sundial is ready")).toBeTruthy();
  });
});

describe("live updates", () => {
  it("a burst of engine events costs one refetch", async () => {
    const backend = new FakeBackend();
    backend.addJob({ name: "Busy" });
    renderApp(backend);
    await screen.findAllByTestId("job-row");
    const listed = () => backend.calls.filter((c) => c === "listJobs").length;
    const before = listed();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      act(() => {
        for (let i = 0; i < 500; i++) backend.emit({ type: "pause_changed", paused: false });
      });
      expect(listed()).toBe(before);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(REFRESH_COALESCE_MS);
      });
      expect(listed()).toBe(before + 1);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(REFRESH_COALESCE_MS * 10);
      });
      expect(listed()).toBe(before + 1);
    } finally {
      vi.useRealTimers();
    }
  });
});
