import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SchedulePreview } from "../../bindings/SchedulePreview";
import { BackendError } from "../../ipc";
import { PREVIEW_DEBOUNCE_MS } from "./preview";
import { deferred, EditorBackend, renderEditor } from "./testing";

/** The item at `i`, or a failed test. */
function nth<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no item ${i}`);
  return item;
}


beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
});
afterEach(() => {
  vi.useRealTimers();
});

const cron = () => screen.getByTestId("editor-cron");
const type = (value: string) => fireEvent.change(cron(), { target: { value } });
const settle = () =>
  act(async () => {
    await vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS + 10);
  });

const riga: SchedulePreview = {
  description: "At 03:15 AM (Europe/Riga)",
  fires: [
    { at: "2026-03-27T01:15:00Z", local: "2026-03-27T03:15:00+02:00", dst: null },
    { at: "2026-03-28T01:15:00Z", local: "2026-03-28T03:15:00+02:00", dst: null },
    { at: "2026-03-29T01:00:00Z", local: "2026-03-29T04:00:00+03:00", dst: "moved_after_gap" },
    { at: "2026-03-30T00:15:00Z", local: "2026-03-30T03:15:00+03:00", dst: null },
    { at: "2026-03-31T00:15:00Z", local: "2026-03-31T03:15:00+03:00", dst: null },
  ],
};

describe("schedule preview", () => {
  it("asks the engine once typing settles and shows the words and 5 times in the job's zone", async () => {
    const backend = new EditorBackend();
    backend.answer = (trigger) =>
      trigger.type === "cron" && trigger.expr === "15 3 * * *" ? Promise.resolve(riga) : Promise.resolve({ description: "other", fires: [] });
    renderEditor(backend);
    expect(screen.getByTestId("schedule-description").textContent).toContain("Type a cron expression");
    fireEvent.change(screen.getByTestId("editor-timezone"), { target: { value: "Europe/Riga" } });
    for (const text of ["1", "15", "15 3", "15 3 * *", "15 3 * * *"]) type(text);
    expect(backend.previewed).toHaveLength(0);
    await settle();
    await waitFor(() => expect(screen.getByTestId("schedule-description").textContent).toBe("At 03:15 AM (Europe/Riga)"));
    expect(backend.previewed).toEqual([{ type: "cron", expr: "15 3 * * *", timezone: "Europe/Riga" }]);
    const times = screen.getAllByTestId("fire-time");
    expect(times).toHaveLength(5);
    expect(screen.getByTestId("schedule-preview").contains(nth(times, 0))).toBe(true);
    expect(nth(times, 0).textContent).toBe("Fri 27 Mar 2026, 03:15 (UTC+02:00)");
    expect(nth(times, 2).textContent).toContain("Sun 29 Mar 2026, 04:00 (UTC+03:00)");
    expect(nth(times, 2).textContent).toContain("moved after the DST gap: 03:15 does not exist that day");
    expect(nth(times, 3).textContent).toBe("Mon 30 Mar 2026, 03:15 (UTC+03:00)");
  });

  it("notes both passes of a repeated hour", async () => {
    const backend = new EditorBackend();
    backend.answer = () =>
      Promise.resolve({
        description: "Every 30 minutes (Europe/Riga)",
        fires: [
          { at: "2021-10-31T00:00:00Z", local: "2021-10-31T03:00:00+03:00", dst: "repeated_first_pass" },
          { at: "2021-10-31T01:00:00Z", local: "2021-10-31T03:00:00+02:00", dst: "repeated_second_pass" },
        ],
      });
    renderEditor(backend);
    type("*/30 * * * *");
    await settle();
    const times = await screen.findAllByTestId("fire-time");
    expect(nth(times, 0).textContent).toBe("Sun 31 Oct 2021, 03:00 (UTC+03:00)the hour repeats (clocks go back): first pass");
    expect(nth(times, 1).textContent).toContain("(UTC+02:00)the hour repeats (clocks go back): second pass");
  });

  it("shows a preview error under the expression at once, before saving", async () => {
    const backend = new EditorBackend();
    backend.answer = (trigger) =>
      trigger.type === "cron" && trigger.expr === "61 * * * *"
        ? Promise.reject(new BackendError("invalid", "trigger.expr: minute 61 is out of range", [{ field: "trigger.expr", message: "minute 61 is out of range (0-59)" }]))
        : Promise.resolve(riga);
    renderEditor(backend);
    type("61 * * * *");
    await settle();
    const error = await screen.findByTestId("field-error-trigger.expr");
    expect(error.textContent).toBe("minute 61 is out of range (0-59)");
    expect(cron().getAttribute("aria-invalid")).toBe("true");
    expect(cron().getAttribute("aria-describedby")).toContain(error.id);
    expect(screen.queryByTestId("schedule-preview")).toBeNull();
    expect(backend.calls).not.toContain("createJob");

    type("15 3 * * *");
    await settle();
    await waitFor(() => expect(screen.getAllByTestId("fire-time")).toHaveLength(5));
    expect(screen.queryByTestId("field-error-trigger.expr")).toBeNull();
  });

  it("puts a non-cron preview error on the schedule type", async () => {
    const backend = new EditorBackend();
    backend.answer = () => Promise.reject(new BackendError("invalid", "bad", [{ field: "trigger", message: "every must be at least 1" }]));
    renderEditor(backend);
    fireEvent.change(screen.getByTestId("editor-trigger-type"), { target: { value: "interval" } });
    fireEvent.change(screen.getByTestId("editor-every"), { target: { value: "0" } });
    await settle();
    expect((await screen.findByTestId("field-error-trigger")).textContent).toBe("every must be at least 1");
    expect(screen.getByTestId("editor-trigger-type").getAttribute("aria-invalid")).toBe("true");
  });

  it("never lets a late answer for older text replace the newer one", async () => {
    const backend = new EditorBackend();
    const first = deferred<SchedulePreview>();
    const second = deferred<SchedulePreview>();
    backend.answer = (trigger) => (trigger.type === "cron" && trigger.expr === "0 1 * * *" ? first.promise : second.promise);
    renderEditor(backend);
    type("0 1 * * *");
    await settle();
    type("0 2 * * *");
    await settle();
    expect(backend.previewed).toHaveLength(2);
    await act(async () => {
      second.resolve({ description: "At 02:00 AM (UTC)", fires: [] });
      await second.promise;
    });
    await waitFor(() => expect(screen.getByTestId("schedule-description").textContent).toBe("At 02:00 AM (UTC)"));
    await act(async () => {
      first.resolve({ description: "At 01:00 AM (UTC)", fires: [] });
      await first.promise;
    });
    await settle();
    expect(screen.getByTestId("schedule-description").textContent).toBe("At 02:00 AM (UTC)");
  });

  it("describes at-start and on-wake triggers with their delay, without a fire list", async () => {
    const backend = new EditorBackend();
    const self = backend.addJob({ name: "Sync" });
    renderEditor(backend, { screen: "job", jobId: self.id, tab: "edit" });
    const typeSelect = await screen.findByTestId("editor-trigger-type");
    fireEvent.change(typeSelect, { target: { value: "on_wake" } });
    fireEvent.change(screen.getByTestId("editor-event-delay"), { target: { value: "30" } });
    expect(screen.getByTestId("schedule-description").textContent).toBe(
      "Runs each time the computer wakes from sleep, 30 s later. A clock set forward is not a wake.",
    );
    fireEvent.change(typeSelect, { target: { value: "at_start" } });
    fireEvent.change(screen.getByTestId("editor-event-delay"), { target: { value: "120" } });
    expect(screen.getByTestId("schedule-description").textContent).toContain("Runs when Sundial starts, 2 min later");
    await settle();
    expect(screen.queryByTestId("schedule-preview")).toBeNull();
    expect(backend.previewed).toHaveLength(0);
  });

  it("describes manual and after-job triggers without a fire list", async () => {
    const backend = new EditorBackend();
    const upstream = backend.addJob({ name: "Fetch rates" });
    const self = backend.addJob({ name: "Report" });
    renderEditor(backend, { screen: "job", jobId: self.id, tab: "edit" });
    const typeSelect = await screen.findByTestId("editor-trigger-type");
    fireEvent.change(typeSelect, { target: { value: "after_job" } });
    const picker = screen.getByTestId("editor-after-job");
    await waitFor(() => expect(picker.textContent).toContain("Fetch rates"));
    expect(picker.textContent).not.toContain("Report");
    fireEvent.change(picker, { target: { value: upstream.id } });
    fireEvent.change(screen.getByLabelText("When it"), { target: { value: "failure" } });
    expect(screen.getByTestId("schedule-description").textContent).toBe("Runs after “Fetch rates” fails.");
    fireEvent.change(typeSelect, { target: { value: "manual" } });
    expect(screen.getByTestId("schedule-description").textContent).toBe("Runs only when you run it by hand.");
    await settle();
    expect(screen.queryByTestId("schedule-preview")).toBeNull();
    expect(backend.previewed).toHaveLength(0);
  });
});
