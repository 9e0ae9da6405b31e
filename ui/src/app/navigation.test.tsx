import { QueryClient } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "../App";
import { FakeBackend } from "../ipc/fake";
import { parseRoute } from "./navigation";

describe("the screen a closed window reopens on", () => {
  it("tells the shell every screen shown", async () => {
    const backend = new FakeBackend();
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<App backend={backend} queryClient={queryClient} />);
    await waitFor(() => expect(backend.screens).toEqual([{ screen: "jobs" }]));
    fireEvent.click(screen.getByRole("button", { name: /Settings/ }));
    await waitFor(() => expect(backend.screens.at(-1)).toEqual({ screen: "settings" }));
  });

  it("starts on the screen the shell kept, and on the jobs list for anything else", () => {
    expect(parseRoute({ screen: "job", jobId: "01J", tab: "history" })).toEqual({
      screen: "job",
      jobId: "01J",
      tab: "history",
    });
    expect(parseRoute({ screen: "timeline" })).toEqual({ screen: "timeline" });
    expect(parseRoute({ screen: "log", source: { kind: "app", day: "2026-12-01" } })).toEqual({
      screen: "log",
      source: { kind: "app", day: "2026-12-01" },
    });
    for (const bad of [null, "jobs", { screen: "nowhere" }, { screen: "job", jobId: 3, tab: "overview" }, { screen: "job", jobId: "x", tab: "nope" }]) {
      expect(parseRoute(bad)).toBeNull();
    }
  });
});
