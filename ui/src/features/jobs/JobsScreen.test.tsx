import { QueryClient } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "../../App";
import { FakeBackend } from "../../ipc/fake";

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
    const [nightly, rates] = rows as [HTMLElement, HTMLElement];
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
