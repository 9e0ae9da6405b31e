import { QueryClient } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "../../App";
import type { LogLine } from "../../bindings/LogLine";
import { FakeBackend, fakeLog } from "../../ipc/fake";

function renderLogsTab(backend: FakeBackend, jobId: string) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<App backend={backend} queryClient={queryClient} initialRoute={{ screen: "job", jobId, tab: "logs" }} />);
}

function lines(texts: string[]): LogLine[] {
  return texts.map((text, number) => ({ number, time: "2026-03-01T02:00:00.000Z", stream: text.startsWith("ERROR") ? "stderr" : "stdout", continued: false, text }));
}

/** A job with three runs a day apart, oldest first; the middle one has no ERROR line. */
function backup(backend: FakeBackend) {
  const job = backend.addJob({ name: "Backup" }, "Every day");
  const old = backend.addRun(job.id, "2026-03-01T02:00:00Z", 1000, "failed");
  const mid = backend.addRun(job.id, "2026-03-02T02:00:00Z", 1000, "succeeded");
  const recent = backend.addRun(job.id, "2026-03-03T02:00:00Z", 1000, "failed");
  backend.logs.set(old.id, fakeLog(lines(["start", "ERROR network down", "retrying"])));
  backend.logs.set(mid.id, fakeLog(lines(["start", "all good"])));
  backend.logs.set(recent.id, fakeLog(lines(["start", "copied 4 files", "ERROR disk full", "ERROR giving up"])));
  return { job, old, mid, recent };
}

async function search(text: string) {
  fireEvent.change(await screen.findByLabelText("Search all logs"), { target: { value: text } });
}

describe("a job's logs as one", () => {
  it("streams matches newest run first, grouped by run with its time, outcome and count", async () => {
    const backend = new FakeBackend();
    const { job, old, recent } = backup(backend);
    renderLogsTab(backend, job.id);
    await search("ERROR");
    await waitFor(() => expect(backend.jobLogSearch?.jobId).toBe(job.id));
    // Nothing has arrived yet: the search says it is going.
    expect(screen.getByTestId("job-logs-status").textContent).toContain("Searching");
    act(() => backend.flushJobLogSearch(1));
    let groups = await screen.findAllByTestId("job-logs-run");
    expect(groups.map((g) => g.dataset.run)).toEqual([recent.id]);
    act(() => backend.flushJobLogSearch());
    groups = await screen.findAllByTestId("job-logs-run");
    expect(groups.map((g) => g.dataset.run)).toEqual([recent.id, old.id]);
    const first = groups[0];
    if (!first) throw new Error("no group");
    expect(first.textContent).toContain("Failed");
    expect(first.textContent).toContain("2 matching lines");
    const shown = within(first).getAllByTestId("job-logs-line");
    expect(shown.map((l) => l.textContent)).toEqual(["3ERROR disk full", "4ERROR giving up"]);
    expect(within(first).getAllByTestId("job-logs-mark")[0]?.textContent).toBe("ERROR");
    await waitFor(() => expect(screen.getByTestId("job-logs-status").textContent).toBe("3 matching lines in 2 of 3 runs (360 B)"));
  });

  it("opens the log viewer at the line clicked", async () => {
    const backend = new FakeBackend();
    const { job } = backup(backend);
    renderLogsTab(backend, job.id);
    await search("network");
    await waitFor(() => expect(backend.jobLogSearch).not.toBeNull());
    act(() => backend.flushJobLogSearch());
    fireEvent.click(await screen.findByLabelText("Open the log at line 2"));
    await screen.findByTestId("log-viewer");
    await waitFor(() => {
      const selected = screen.getAllByTestId("log-line").filter((l) => l.dataset.selected);
      expect(selected.map((l) => l.dataset.line)).toEqual(["1"]);
    });
    expect(backend.calls).toContain("cancelJobLogSearch");
    expect(screen.getAllByTestId("log-line")[0]?.dataset.line).toBe("0");
  });

  it("typing again stops the search under way and shows only the new one's results", async () => {
    const backend = new FakeBackend();
    const { job, old } = backup(backend);
    renderLogsTab(backend, job.id);
    await search("ERROR");
    await waitFor(() => expect(backend.jobLogSearch).not.toBeNull());
    const first = backend.jobLogSearch;
    act(() => backend.flushJobLogSearch(1));
    await screen.findAllByTestId("job-logs-run");
    await search("network");
    await waitFor(() => expect(backend.jobLogSearch).not.toBe(first));
    expect(first?.cancelled).toBe(true);
    // A late batch of the old search is not shown.
    act(() => first?.onBatch(first.batches[0] ?? { runs: [] }));
    act(() => backend.flushJobLogSearch());
    await waitFor(() => expect(screen.getAllByTestId("job-logs-run").map((g) => g.dataset.run)).toEqual([old.id]));
  });

  it("says when nothing matched, and shows a bad regular expression as an error", async () => {
    const backend = new FakeBackend();
    const { job } = backup(backend);
    renderLogsTab(backend, job.id);
    await search("nowhere");
    await waitFor(() => expect(backend.jobLogSearch).not.toBeNull());
    act(() => backend.flushJobLogSearch());
    await waitFor(() => expect(screen.getByTestId("job-logs-status").textContent).toBe("No matches in 3 runs (360 B)"));
    fireEvent.click(screen.getByRole("button", { name: "Regex" }));
    await search("(unclosed");
    const error = await screen.findByTestId("job-logs-error");
    expect(error.textContent).toContain("search.pattern");
    expect(screen.getByLabelText("Search all logs").getAttribute("aria-invalid")).toBe("true");
    expect(screen.queryAllByTestId("job-logs-run")).toHaveLength(0);
  });
});
