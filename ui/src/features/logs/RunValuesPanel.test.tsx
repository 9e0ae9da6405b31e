import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { LogSource } from "../../bindings/LogSource";
import { NavigationProvider, useNavigation } from "../../app/navigation";
import { BackendProvider } from "../../ipc";
import { FakeBackend, fakeLog } from "../../ipc/fake";
import { LogViewerScreen } from "./LogViewerScreen";

function Shell() {
  const { route } = useNavigation();
  if (route.screen !== "log") return <p>screen: {route.screen}</p>;
  return <LogViewerScreen key={route.source.kind === "run" ? route.source.run_id : route.source.day} source={route.source} />;
}

function renderViewer(backend: FakeBackend, source: LogSource) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <NavigationProvider initial={{ screen: "log", source }}>
          <Shell />
        </NavigationProvider>
      </QueryClientProvider>
    </BackendProvider>,
  );
}

/** A producer run that wrote two outputs and the consumer run chained after it. */
async function pipeline(backend: FakeBackend) {
  const producer = backend.addJob({ name: "Fetch prices" });
  const consumer = backend.addJob({ name: "Load warehouse" });
  const up = await backend.runJobNow(producer.id);
  backend.finishRun(up.id, "succeeded");
  const down = await backend.runJobNow(consumer.id);
  backend.finishRun(down.id, "succeeded");
  for (const id of [up.id, down.id]) backend.logs.set(id, fakeLog([]));
  const output = [
    { key: "ROWS", value: "42" },
    { key: "PATH", value: "/data/prices.csv" },
  ];
  backend.runValues.set(up.id, { output, passed: [] });
  backend.runValues.set(down.id, {
    output: [],
    passed: [
      { key: "SUNDIAL_UPSTREAM_RUN_ID", value: up.id },
      { key: "SUNDIAL_UPSTREAM_JOB_NAME", value: "Fetch prices" },
      { key: "SUNDIAL_UPSTREAM_STATUS", value: "succeeded" },
      { key: "SUNDIAL_UPSTREAM_EXIT_CODE", value: "0" },
      ...output.map((v) => ({ key: `SUNDIAL_OUTPUT_${v.key}`, value: v.value })),
    ],
  });
  return { up: up.id, down: down.id };
}

describe("values passed along a chain", () => {
  it("shows what the upstream run passed and opens its log", async () => {
    const backend = new FakeBackend();
    const { up, down } = await pipeline(backend);
    renderViewer(backend, { kind: "run", run_id: down });
    const panel = await screen.findByTestId("run-values");
    expect(panel.textContent).toContain("After");
    expect(panel.textContent).toContain("succeeded (exit code 0), which passed 2 values:");
    const passed = within(screen.getByTestId("run-values-passed"))
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(passed).toEqual(["SUNDIAL_OUTPUT_ROWS=42", "SUNDIAL_OUTPUT_PATH=/data/prices.csv"]);
    expect(screen.queryByTestId("run-values-output")).toBeNull();

    fireEvent.click(within(panel).getByRole("button", { name: "Fetch prices" }));
    // The producer's page: what it wrote for the runs after it.
    const output = await screen.findByTestId("run-values-output");
    expect(within(output).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "ROWS=42",
      "PATH=/data/prices.csv",
    ]);
    await waitFor(() => expect(screen.getByTestId("log-title").textContent).toBe("Fetch prices"));
    expect(up).not.toBe(down);
  });

  it("shows nothing for a run outside a pipeline", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({ name: "Alone" });
    const run = await backend.runJobNow(job.id);
    backend.finishRun(run.id, "succeeded");
    backend.logs.set(run.id, fakeLog([]));
    renderViewer(backend, { kind: "run", run_id: run.id });
    await waitFor(() => expect(screen.getByTestId("log-title").textContent).toBe("Alone"));
    await waitFor(() => expect(backend.calls).toContain("getRunValues"));
    await act(async () => {});
    expect(screen.queryByTestId("run-values")).toBeNull();
  });
});
