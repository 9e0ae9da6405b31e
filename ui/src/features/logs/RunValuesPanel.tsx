import { useQuery } from "@tanstack/react-query";
import type { RunValue } from "../../bindings/RunValue";
import { useNavigation } from "../../app/navigation";
import { useBackend } from "../../ipc";

const UPSTREAM = "SUNDIAL_UPSTREAM_";
const OUTPUT = "SUNDIAL_OUTPUT_";

function find(values: RunValue[], key: string): string | undefined {
  return values.find((v) => v.key === key)?.value;
}

/** What a run of a pipeline got from the run before it, and what it wrote for the runs after
 * it (`$SUNDIAL_OUTPUT`). Nothing is shown for a run that did neither. */
export function RunValuesPanel({ runId }: { runId: string }) {
  const backend = useBackend();
  const { navigate } = useNavigation();
  const values = useQuery({ queryKey: ["logs", "run-values", runId], queryFn: () => backend.getRunValues(runId) });
  const passed = values.data?.passed ?? [];
  const output = values.data?.output ?? [];
  if (passed.length === 0 && output.length === 0) return null;
  const upstreamRun = find(passed, `${UPSTREAM}RUN_ID`);
  const upstreamJob = find(passed, `${UPSTREAM}JOB_NAME`);
  const upstreamStatus = find(passed, `${UPSTREAM}STATUS`)?.replace("_", " ");
  const exitCode = find(passed, `${UPSTREAM}EXIT_CODE`);
  const passedOutputs = passed.filter((v) => v.key.startsWith(OUTPUT));
  return (
    <section
      aria-label="Values passed along the chain"
      className="flex flex-col gap-1.5 border-b border-slate-200 px-4 py-2 text-sm dark:border-slate-800"
      data-testid="run-values"
    >
      {upstreamRun && (
        <div className="flex flex-wrap items-baseline gap-x-2">
          <span className="text-slate-500 dark:text-slate-400">After</span>
          <button
            type="button"
            className="font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-400"
            onClick={() => navigate({ screen: "log", source: { kind: "run", run_id: upstreamRun } })}
            title={`Open the log of run ${upstreamRun}`}
          >
            {upstreamJob ?? "the upstream run"}
          </button>
          <span className="text-slate-500 dark:text-slate-400">
            {upstreamStatus}
            {exitCode !== undefined && ` (exit code ${exitCode})`}
            {passedOutputs.length === 0
              ? ", which wrote no output values"
              : `, which passed ${passedOutputs.length} value${passedOutputs.length === 1 ? "" : "s"}:`}
          </span>
          {passedOutputs.length > 0 && <ValueList values={passedOutputs} testId="run-values-passed" />}
        </div>
      )}
      {output.length > 0 && (
        <div className="flex flex-wrap items-baseline gap-x-2">
          <span className="text-slate-500 dark:text-slate-400">Output for the jobs after this one:</span>
          <ValueList values={output} testId="run-values-output" />
        </div>
      )}
    </section>
  );
}

function ValueList({ values, testId }: { values: RunValue[]; testId: string }) {
  return (
    <ul className="flex min-w-0 flex-wrap gap-1.5" data-testid={testId}>
      {values.map((v) => (
        <li
          key={v.key}
          className="max-w-[28rem] truncate rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-200"
          title={`${v.key}=${v.value}`}
        >
          {v.key}={v.value}
        </li>
      ))}
    </ul>
  );
}
