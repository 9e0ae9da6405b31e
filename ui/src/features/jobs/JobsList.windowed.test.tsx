// The jobs list draws only the rows in view: a long list renders a window of rows, scrolling
// brings the others, and everything that counts every job (the caption, select all, export)
// still counts all of them.
import { QueryClient } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { App } from "../../App";
import { FakeBackend } from "../../ipc/fake";

// jsdom has no layout: the scroll view is 600 px tall and every table row 60 px (what the
// virtualizer measures), so about ten rows are in view.
const ROW = 60;
const VIEW = 600;
const saved = new Map<string, PropertyDescriptor | undefined>();
const sizes: Record<string, (el: HTMLElement) => number> = {
  clientHeight: () => VIEW,
  clientWidth: () => 1000,
  offsetHeight: (el) => (el.tagName === "TR" ? ROW : VIEW),
  offsetWidth: () => 1000,
};
beforeAll(() => {
  for (const [name, size] of Object.entries(sizes)) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
    Object.defineProperty(HTMLElement.prototype, name, {
      configurable: true,
      get(this: HTMLElement) {
        return size(this);
      },
    });
  }
});
afterAll(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else Reflect.deleteProperty(HTMLElement.prototype, name);
  }
});

const JOBS = 500;
const name = (i: number) => `job ${String(i).padStart(3, "0")}`;

function names(): string[] {
  return screen.getAllByTestId("job-name").map((b) => b.textContent ?? "");
}

describe("a long jobs list", () => {
  it("draws the rows in view, brings the others on scrolling, and still counts every job", async () => {
    const backend = new FakeBackend();
    for (let i = 0; i < JOBS; i++) backend.addJob({ name: name(i) });
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<App backend={backend} queryClient={queryClient} />);

    await screen.findByText(name(0));
    const first = names();
    expect(first[0]).toBe(name(0));
    expect(first.length).toBeGreaterThanOrEqual(VIEW / ROW);
    expect(first.length).toBeLessThan(40);
    expect(screen.queryByText(name(JOBS - 1))).toBeNull();
    expect(document.querySelector("caption")?.textContent).toBe(`${JOBS} jobs`);
    expect(document.querySelector("table")?.getAttribute("aria-rowcount")).toBe(String(JOBS + 1));

    // The rows not drawn keep their place (estimated until drawn): the list is about as tall
    // as all of them, so the scroll bar reaches every job.
    const listHeight = () =>
      screen.queryAllByTestId("jobs-spacer").reduce((sum, s) => sum + Number.parseFloat(s.style.height), 0) +
      screen.getAllByTestId("job-row").length * ROW;
    const height = listHeight();
    expect(height).toBeGreaterThanOrEqual(JOBS * ROW);
    expect(height).toBeLessThanOrEqual(JOBS * ROW * 1.1);

    // Scrolled to the end: the last jobs are drawn, the first are not.
    const scroller = screen.getByTestId("jobs-scroll");
    act(() => {
      scroller.scrollTop = listHeight() - VIEW;
      fireEvent.scroll(scroller);
    });
    await waitFor(() => expect(names()).toContain(name(JOBS - 1)));
    expect(names()).not.toContain(name(0));
    const last = screen.getAllByTestId("job-row").at(-1);
    expect(last?.getAttribute("aria-rowindex")).toBe(String(JOBS + 1));

    // Select all selects every job shown, drawn or not.
    fireEvent.click(screen.getByTestId("jobs-select-all"));
    await waitFor(() => expect(screen.getByTestId("jobs-export").textContent).toBe(`Export ${JOBS}…`));
  });
});
