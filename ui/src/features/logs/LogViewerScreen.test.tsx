import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LogLine } from "../../bindings/LogLine";
import type { LogSearch } from "../../bindings/LogSearch";
import type { LogSource } from "../../bindings/LogSource";
import type { LogView } from "../../bindings/LogView";
import type { Stream } from "../../bindings/Stream";
import { NavigationProvider, useNavigation } from "../../app/navigation";
import { BackendProvider } from "../../ipc";
import { FakeBackend, fakeLog, generatedLog } from "../../ipc/fake";
import { LogViewerScreen } from "./LogViewerScreen";

/** Records the arguments of the log calls the viewer makes. */
class SpyBackend extends FakeBackend {
  reads: Array<{ stream: Stream | undefined; start: number; count: number }> = [];
  searches: LogSearch[] = [];
  readLogLines(view: LogView, start: number, count: number) {
    this.reads.push({ stream: view.stream, start, count });
    return super.readLogLines(view, start, count);
  }
  searchLog(view: LogView, search: LogSearch) {
    this.searches.push(search);
    return super.searchLog(view, search);
  }
}

const E = "\u001b";

function line(number: number, text: string, stream: Stream = "stdout", continued = false): LogLine {
  return { number, time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, number)).toISOString(), stream, continued, text };
}

/** A finished (or running) run of a job called "Nightly export", with `log`. */
async function addRun(backend: FakeBackend, log: ReturnType<typeof fakeLog>, running = false): Promise<string> {
  const job = backend.addJob({ name: "Nightly export" });
  const run = await backend.runJobNow(job.id);
  if (!running) backend.finishRun(run.id, "succeeded");
  backend.logs.set(run.id, log);
  return run.id;
}

function Shell({ searchPageSize }: { searchPageSize: number | undefined }) {
  const { route } = useNavigation();
  if (route.screen !== "log") return <p>screen: {route.screen}</p>;
  return searchPageSize === undefined ? <LogViewerScreen source={route.source} /> : <LogViewerScreen source={route.source} searchPageSize={searchPageSize} />;
}

function renderViewer(backend: FakeBackend, source: LogSource, searchPageSize?: number) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <NavigationProvider initial={{ screen: "log", source }}>
          <Shell searchPageSize={searchPageSize} />
        </NavigationProvider>
      </QueryClientProvider>
    </BackendProvider>,
  );
}

function shownLines(): number[] {
  return screen.queryAllByTestId("log-line").map((el) => Number(el.dataset.line));
}

function lineEl(number: number): HTMLElement {
  const el = screen.getAllByTestId("log-line").find((e) => e.dataset.line === String(number));
  if (!el) throw new Error(`line ${number} is not shown (shown: ${shownLines().join(",")})`);
  return el;
}

function currentMatchLine(): number {
  const mark = screen.getByTestId("log-current-match");
  return Number(mark.closest<HTMLElement>("[data-testid=log-line]")?.dataset.line);
}

function goToLine(value: string): void {
  const input = screen.getByLabelText("Go to line");
  fireEvent.change(input, { target: { value } });
  const form = input.closest("form");
  if (!form) throw new Error("no form");
  fireEvent.submit(form);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("log viewer: reading by range", () => {
  it("opens a 10,000,000-line log by reading only blocks near what is shown", async () => {
    const backend = new SpyBackend();
    const runId = await addRun(backend, generatedLog(10_000_000));
    renderViewer(backend, { kind: "run", run_id: runId });

    await waitFor(() => expect(shownLines()).toEqual(range(0, 41)));
    expect(lineEl(0).textContent).toContain("line 0 of a long log");
    expect(lineEl(0).textContent).toContain("1"); // gutter shows number + 1
    expect(screen.getByTestId("log-line-count").textContent).toBe("10,000,000 lines");
    expect(screen.getByTestId("log-title").textContent).toBe("Nightly export");
    expect(backend.reads.length).toBeGreaterThan(0);
    expect(backend.reads.length).toBeLessThanOrEqual(2);
    for (const r of backend.reads) {
      expect(r.count).toBeLessThanOrEqual(5000);
      expect(r.start).toBeLessThan(5000);
    }

    backend.reads = [];
    fireEvent.click(screen.getByRole("button", { name: "Jump to end" }));
    await waitFor(() => expect(shownLines().at(-1)).toBe(9_999_999));
    expect(shownLines()).toEqual(range(9_999_959, 10_000_000));
    expect(backend.reads.length).toBeLessThanOrEqual(2);
    for (const r of backend.reads) {
      expect(r.count).toBeLessThanOrEqual(5000);
      expect(r.start).toBeGreaterThan(9_990_000);
    }
    const bar = screen.getByRole("scrollbar");
    expect(bar.getAttribute("aria-valuenow")).toBe(bar.getAttribute("aria-valuemax"));
    expect(bar.getAttribute("aria-valuemax")).toBe(String(10_000_000 - 40));

    backend.reads = [];
    goToLine("5000000");
    await waitFor(() => expect(shownLines()).toContain(4_999_999));
    expect(lineEl(4_999_999).dataset.selected).toBe("true");
    // A third from the top.
    expect(shownLines()[0]).toBe(4_999_999 - 13);
    for (const r of backend.reads) expect(Math.abs(r.start - 5_000_000)).toBeLessThan(2000);

    goToLine("9999999");
    await waitFor(() => expect(lineEl(9_999_998).dataset.selected).toBe("true"));
    expect(backend.calls.filter((c) => c === "readLogLines").length).toBeLessThanOrEqual(8);
  });

  it("scrolls by wheel, keys and the scrollbar without reading the whole log", async () => {
    const backend = new SpyBackend();
    const runId = await addRun(backend, generatedLog(100_000));
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    const viewport = screen.getByTestId("log-viewport");

    fireEvent.wheel(viewport, { deltaY: 200, deltaMode: 0 }); // 200 px = 10 rows
    await waitFor(() => expect(shownLines()[0]).toBe(10));
    fireEvent.keyDown(viewport, { key: "ArrowDown" });
    await waitFor(() => expect(shownLines()[0]).toBe(11));
    fireEvent.keyDown(viewport, { key: "PageDown" });
    await waitFor(() => expect(shownLines()[0]).toBe(11 + 39));
    fireEvent.keyDown(viewport, { key: "End" });
    await waitFor(() => expect(shownLines().at(-1)).toBe(99_999));
    fireEvent.keyDown(window, { key: "Home", ctrlKey: true });
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    expect(screen.getByRole("scrollbar").getAttribute("aria-valuenow")).toBe("0");
    expect(backend.reads.every((r) => r.count <= 5000)).toBe(true);
  });
});

describe("log viewer: lines", () => {
  it("renders ANSI colours, stderr, Sundial notes, continuations and times", async () => {
    const backend = new FakeBackend();
    const runId = await addRun(
      backend,
      fakeLog([
        line(0, `${E}[1;31mERROR${E}[0m disk full${E}[K`),
        line(1, "warning: low memory", "stderr"),
        line(2, "exited with code 1", "sundial"),
        line(3, "…rest of a long line", "stdout", true),
      ]),
    );
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()).toEqual([0, 1, 2, 3]));
    const first = lineEl(0);
    const red = within(first).getByText("ERROR");
    expect(red.className).toContain("text-red-700");
    expect(red.className).toContain("font-bold");
    expect(first.textContent).not.toContain("\u001b");
    expect(first.textContent).toContain("ERROR disk full");
    expect(lineEl(1).dataset.stream).toBe("stderr");
    expect(lineEl(1).className).toContain("border-red-500");
    expect(lineEl(2).className).toContain("italic");
    expect(lineEl(3).textContent).toContain("↪");
    expect(lineEl(0).textContent).not.toContain("↪");
    const time = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 0));
    const hh = String(time.getHours()).padStart(2, "0");
    expect(within(first).getByTestId("log-time").textContent).toBe(`${hh}:${String(time.getMinutes()).padStart(2, "0")}:05.000`);
  });

  it("says so when a run wrote nothing, and shows why a log cannot be opened", async () => {
    const backend = new FakeBackend();
    const runId = await addRun(backend, fakeLog([]));
    const { unmount } = renderViewer(backend, { kind: "run", run_id: runId });
    expect(await screen.findByText("This run wrote no output")).toBeTruthy();
    unmount();
    renderViewer(backend, { kind: "run", run_id: "01NOSUCHRUN" });
    expect((await screen.findByRole("alert")).textContent).toContain("the log of run 01NOSUCHRUN was not found");
  });

  it("copies the selected lines without escape codes", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const backend = new FakeBackend();
    const runId = await addRun(backend, fakeLog(range(0, 10).map((n) => line(n, `${E}[32mtext ${n}${E}[0m`))));
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()).toHaveLength(10));
    fireEvent.click(screen.getByRole("button", { name: "Select line 3" }));
    fireEvent.click(screen.getByRole("button", { name: "Select line 5" }), { shiftKey: true });
    fireEvent.click(screen.getByTestId("log-copy"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith("text 2\ntext 3\ntext 4"));
    expect(screen.getByTestId("log-message").textContent).toBe("Copied 3 lines");
  });

  it("copies at most 100,000 lines and says so", async () => {
    const writeText = vi.fn((text: string) => Promise.resolve(void text));
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const backend = new SpyBackend();
    const runId = await addRun(backend, generatedLog(1_000_000));
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    goToLine("150001");
    await waitFor(() => expect(lineEl(150_000).dataset.selected).toBe("true"));
    fireEvent.click(screen.getByRole("button", { name: "Jump to start" }));
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    fireEvent.click(screen.getByRole("button", { name: "Select line 1" }), { shiftKey: true });
    expect(screen.getByTestId("log-copy").textContent).toBe("Copy 150,001 lines");
    fireEvent.click(screen.getByTestId("log-copy"));
    await waitFor(() => expect(writeText).toHaveBeenCalledTimes(1));
    const copied = writeText.mock.calls[0]?.[0].split("\n") ?? [];
    expect(copied).toHaveLength(100_000);
    expect(copied[0]).toBe("line 0 of a long log");
    expect(copied.at(-1)).toBe("line 99999 of a long log");
    expect(screen.getByTestId("log-message").textContent).toBe("Copied the first 100,000 of 150,001 selected lines (the limit)");
    expect(backend.reads.every((r) => r.count <= 5000)).toBe(true);
  });

  it("opens the containing folder and goes back", async () => {
    const backend = new FakeBackend();
    const runId = await addRun(backend, fakeLog([line(0, "hello")]));
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()).toEqual([0]));
    fireEvent.click(screen.getByRole("button", { name: "Open folder" }));
    await waitFor(() => expect(backend.calls).toContain("revealLog"));
    fireEvent.click(screen.getByRole("button", { name: "Back" }));
    expect(await screen.findByText("screen: jobs")).toBeTruthy();
  });
});

describe("log viewer: search", () => {
  /** 200 lines; lines 10, 60, 110 and 160 say "ERROR" (line 60 in red). */
  function searchLog(): ReturnType<typeof fakeLog> {
    return fakeLog(
      range(0, 200).map((n) =>
        line(n, n % 50 === 10 ? (n === 60 ? `${E}[31mERROR${E}[0m at step ${n}` : `ERROR at step ${n}`) : `step ${n} ok`),
      ),
    );
  }

  it("counts matches and moves between them, wrapping around", async () => {
    const backend = new SpyBackend();
    const runId = await addRun(backend, searchLog());
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    const input = screen.getByPlaceholderText("Search log");
    fireEvent.change(input, { target: { value: "error" } });
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("1 of 4"));
    expect(currentMatchLine()).toBe(10);

    fireEvent.click(screen.getByTestId("log-next-match"));
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("2 of 4"));
    expect(currentMatchLine()).toBe(60);
    expect(shownLines()[0]).toBe(60 - 13);
    // The match is found across the escape codes: the mark holds exactly "ERROR", in red.
    const mark = screen.getByTestId("log-current-match");
    expect(mark.textContent).toBe("ERROR");
    expect(mark.className).toContain("text-red-700");

    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(currentMatchLine()).toBe(110));
    fireEvent.keyDown(window, { key: "F3" });
    await waitFor(() => expect(currentMatchLine()).toBe(160));
    expect(screen.getByTestId("log-match-count").textContent).toBe("4 of 4");
    fireEvent.click(screen.getByTestId("log-next-match"));
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("1 of 4"));
    expect(currentMatchLine()).toBe(10);
    expect(shownLines()[0]).toBe(0);
    fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("4 of 4"));
    expect(currentMatchLine()).toBe(160);
    fireEvent.click(screen.getByTestId("log-prev-match"));
    await waitFor(() => expect(currentMatchLine()).toBe(110));
    // One search counted everything; moving within it asked for nothing more.
    expect(backend.searches).toHaveLength(1);
    expect(backend.searches[0]).toMatchObject({ pattern: "error", regex: false, case_sensitive: false, from: 0 });
  });

  it("fetches the next page of matches past max_matches, and the last page when wrapping back", async () => {
    const backend = new SpyBackend();
    const runId = await addRun(backend, searchLog());
    renderViewer(backend, { kind: "run", run_id: runId }, 2);
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    fireEvent.change(screen.getByPlaceholderText("Search log"), { target: { value: "ERROR" } });
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("1 of 4"));
    expect(backend.searches).toEqual([{ pattern: "ERROR", regex: false, case_sensitive: false, from: 0, max_matches: 2 }]);

    // Wrapping back from the first match finds the last one without walking every page.
    fireEvent.click(screen.getByTestId("log-prev-match"));
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("4 of 4"));
    expect(currentMatchLine()).toBe(160);

    fireEvent.click(screen.getByTestId("log-next-match")); // wraps to 1 (already fetched)
    await waitFor(() => expect(currentMatchLine()).toBe(10));
    const before = backend.searches.length;
    fireEvent.click(screen.getByTestId("log-next-match"));
    await waitFor(() => expect(currentMatchLine()).toBe(60));
    expect(backend.searches.length).toBe(before); // index 1 was in the first page

    // A fresh search: the third match is past the first page → a page from after the second.
    fireEvent.click(screen.getByRole("button", { name: "Match case" }));
    await waitFor(() => expect(backend.searches.at(-1)?.case_sensitive).toBe(true));
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toMatch(/of 4$/));
    const start = backend.searches.length;
    const k = Number(screen.getByTestId("log-match-count").textContent?.split(" ")[0]);
    for (let i = k; i < 3; i++) {
      fireEvent.click(screen.getByTestId("log-next-match"));
      await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe(`${i + 1} of 4`));
    }
    expect(currentMatchLine()).toBe(110);
    expect(backend.searches.slice(start)).toContainEqual({ pattern: "ERROR", regex: false, case_sensitive: true, from: 61, max_matches: 2 });
  });

  it("shows the engine's message for an invalid regular expression", async () => {
    const backend = new FakeBackend();
    const runId = await addRun(backend, searchLog());
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    fireEvent.click(screen.getByRole("button", { name: "Regex" }));
    fireEvent.change(screen.getByPlaceholderText("Search log"), { target: { value: "ERROR (at" } });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("pattern:");
    expect(screen.getByPlaceholderText("Search log").getAttribute("aria-invalid")).toBe("true");
    expect(shownLines()[0]).toBe(0);
    // Fixing it searches again.
    fireEvent.change(screen.getByPlaceholderText("Search log"), { target: { value: "ERROR \\(?at step 1[16]0" } });
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("1 of 2"));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("focuses the search box on Ctrl+F and Go to line on Ctrl+G", async () => {
    const backend = new FakeBackend();
    const runId = await addRun(backend, searchLog());
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    fireEvent.keyDown(window, { key: "f", ctrlKey: true });
    expect(document.activeElement).toBe(screen.getByTestId("log-search"));
    fireEvent.keyDown(window, { key: "g", metaKey: true });
    expect(document.activeElement).toBe(screen.getByLabelText("Go to line"));
  });
});

describe("log viewer: stream filter", () => {
  it("shows only the chosen stream and keeps the top line in place", async () => {
    const backend = new SpyBackend();
    const runId = await addRun(backend, generatedLog(1000)); // every 7th line is stderr
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()[0]).toBe(0));
    goToLine("501");
    await waitFor(() => expect(shownLines()[0]).toBe(487));

    fireEvent.click(screen.getByRole("button", { name: "stderr" }));
    await waitFor(() => expect(shownLines()[0]).toBe(489));
    const lines = screen.getAllByTestId("log-line");
    expect(lines.every((l) => l.dataset.stream === "stderr")).toBe(true);
    expect(shownLines().slice(0, 3)).toEqual([489, 496, 503]);
    expect(screen.getByTestId("log-line-count").textContent).toBe("142 stderr lines of 1,000 lines");
    expect(backend.reads.filter((r) => r.stream === "stderr").length).toBeGreaterThan(0);
    expect(backend.calls).toContain("locateLogLine");

    fireEvent.click(screen.getByRole("button", { name: "stdout" }));
    await waitFor(() => expect(shownLines()[0]).toBe(490));
    expect(screen.getAllByTestId("log-line").every((l) => l.dataset.stream === "stdout")).toBe(true);

    fireEvent.click(screen.getByRole("button", { name: "All" }));
    await waitFor(() => expect(shownLines().slice(0, 3)).toEqual([490, 491, 492]));
  });
});

describe("log viewer: live follow", () => {
  it("appends new lines, stays pinned to the end, and stops when the run is done", async () => {
    const backend = new FakeBackend();
    const runId = await addRun(backend, fakeLog(range(0, 5).map((n) => line(n, `early ${n}`)), true), true);
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()).toEqual(range(0, 5)));
    expect(screen.getByTestId("log-live")).toBeTruthy();
    expect(screen.getByTestId("log-follow").getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByRole("button", { name: "Cancel run" })).toBeTruthy();
    expect(backend.calls.filter((c) => c === "followRunLog")).toHaveLength(1);

    act(() => backend.appendLog(runId, range(5, 100).map((n) => line(n, `later ${n}`))));
    await waitFor(() => expect(shownLines().at(-1)).toBe(99));
    expect(shownLines()[0]).toBe(59);
    expect(screen.getByTestId("log-line-count").textContent).toBe("100 lines");

    // Scrolling up stops following: new lines do not move the view.
    fireEvent.keyDown(screen.getByTestId("log-viewport"), { key: "ArrowUp" });
    await waitFor(() => expect(screen.getByTestId("log-follow").getAttribute("aria-pressed")).toBe("false"));
    expect(shownLines()[0]).toBe(59);
    act(() => backend.appendLog(runId, range(100, 110).map((n) => line(n, `more ${n}`))));
    await waitFor(() => expect(screen.getByTestId("log-line-count").textContent).toBe("110 lines"));
    expect(shownLines()[0]).toBe(59);

    // Follow again.
    fireEvent.click(screen.getByTestId("log-follow"));
    await waitFor(() => expect(shownLines().at(-1)).toBe(109));

    const getRunsBefore = backend.calls.filter((c) => c === "getRun").length;
    act(() => {
      backend.finishRun(runId, "succeeded");
      backend.appendLog(runId, [line(110, "done")], true);
    });
    await waitFor(() => expect(screen.queryByTestId("log-live")).toBeNull());
    expect(shownLines().at(-1)).toBe(110);
    await waitFor(() => expect(backend.calls.filter((c) => c === "getRun").length).toBeGreaterThan(getRunsBefore));
    await waitFor(() => expect(screen.getByTestId("log-run-status").textContent).toContain("Succeeded"));
    expect(screen.queryByRole("button", { name: "Cancel run" })).toBeNull();
  });

  it("refreshes a filtered view's count as lines arrive", async () => {
    const backend = new FakeBackend();
    const runId = await addRun(backend, fakeLog([line(0, "out 0"), line(1, "err 1", "stderr")], true), true);
    renderViewer(backend, { kind: "run", run_id: runId });
    await waitFor(() => expect(shownLines()).toEqual([0, 1]));
    fireEvent.click(screen.getByRole("button", { name: "stderr" }));
    await waitFor(() => expect(shownLines()).toEqual([1]));
    act(() => backend.appendLog(runId, [line(2, "out 2"), line(3, "err 3", "stderr"), line(4, "err 4", "stderr")]));
    await waitFor(() => expect(shownLines()).toEqual([1, 3, 4]));
    expect(screen.getByTestId("log-line-count").textContent).toBe("3 stderr lines of 5 lines");
  });
});

describe("log viewer: application log", () => {
  it("switches days with the day picker", async () => {
    const backend = new FakeBackend();
    backend.appLogs.set("2026-01-01", fakeLog([line(0, "new year")]));
    backend.appLogs.set("2026-01-02", fakeLog([line(0, "second day"), line(1, "more")]));
    renderViewer(backend, { kind: "app", day: "2026-01-02" });
    await waitFor(() => expect(shownLines()).toEqual([0, 1]));
    expect(screen.getByText("second day")).toBeTruthy();
    const picker = screen.getByTestId("log-day");
    await waitFor(() => expect(within(picker).getAllByRole("option")).toHaveLength(2));
    expect(within(picker).getAllByRole("option")[0]?.textContent).toContain("2026-01-02");
    expect(screen.queryByRole("group", { name: "Stream" })).toBeNull();
    fireEvent.change(picker, { target: { value: "2026-01-01" } });
    await waitFor(() => expect(screen.getByText("new year")).toBeTruthy());
    expect(shownLines()).toEqual([0]);
  });
});
