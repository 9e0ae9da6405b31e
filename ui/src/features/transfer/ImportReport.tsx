// The import check's report: every crontab line (or every job of a file) with the job it
// becomes or why it does not, as the engine's preview says (files/transfer.rs).
import type { ImportPlan } from "../../bindings/ImportPlan";
import type { PlanEntry } from "../../bindings/PlanEntry";

type Tone = "job" | "refused" | "quiet" | "warn";

const toneClass: Record<Tone, string> = {
  job: "text-emerald-700 dark:text-emerald-400",
  refused: "text-red-700 dark:text-red-400",
  warn: "text-amber-700 dark:text-amber-400",
  quiet: "text-slate-500 dark:text-slate-400",
};

function describe(entry: PlanEntry): { tone: Tone; icon: string; text: string } {
  const o = entry.outcome;
  switch (o.type) {
    case "create":
      return {
        tone: "job",
        icon: "✓",
        text: `job: ${o.name} — ${o.schedule}${o.renamed_from ? ` (renamed: “${o.renamed_from}” is taken)` : ""}`,
      };
    case "replace":
      return { tone: "warn", icon: "↻", text: `replaces the job ${o.name} — ${o.schedule}` };
    case "skip":
      return { tone: "quiet", icon: "–", text: o.reason };
    case "refused":
      return { tone: "refused", icon: "✗", text: o.problems.join("; ") };
    case "not_a_job":
      return {
        tone: o.kind === "invalid" ? "refused" : o.kind === "unsupported" ? "warn" : "quiet",
        icon: o.kind === "invalid" ? "✗" : o.kind === "unsupported" ? "!" : "·",
        text: o.kind === "invalid" ? `not imported: ${o.reason}` : o.kind === "unsupported" ? `not imported: ${o.reason}` : o.reason,
      };
  }
}

/** What the summary line says: jobs to write and lines left out. */
export function summarize(plan: ImportPlan): string {
  const invalid = plan.entries.filter((e) => e.outcome.type === "not_a_job" && (e.outcome.kind === "invalid" || e.outcome.kind === "unsupported")).length;
  const refused = plan.entries.filter((e) => e.outcome.type === "refused").length;
  const skipped = plan.entries.filter((e) => e.outcome.type === "skip").length;
  const parts = [`${plan.jobs} job${plan.jobs === 1 ? "" : "s"} to import`];
  if (invalid > 0) parts.push(`${invalid} line${invalid === 1 ? "" : "s"} not imported`);
  if (skipped > 0) parts.push(`${skipped} left alone (name taken)`);
  if (refused > 0) parts.push(`${refused} job${refused === 1 ? "" : "s"} with problems: nothing can be imported until they are mended`);
  return parts.join(", ");
}

export function ImportReportView({ plan }: { plan: ImportPlan }) {
  const general = plan.problems.filter((p) => p.job === null);
  // Blank lines are left out, as `sundialctl import` leaves them out of its report.
  const shown = plan.entries.filter((e) => !(e.outcome.type === "not_a_job" && e.outcome.kind === "blank"));
  return (
    <div data-testid="import-report">
      <p className={`text-sm font-medium ${plan.ready ? "" : toneClass.refused}`} data-testid="import-summary">
        {summarize(plan)}
      </p>
      {general.length > 0 && (
        <ul role="alert" className="mt-2 space-y-1 text-sm text-red-700 dark:text-red-400" data-testid="import-file-problems">
          {general.map((p, i) => (
            <li key={i}>
              {p.line !== null ? `Line ${p.line}${p.column !== null ? `, column ${p.column}` : ""}: ` : ""}
              {p.field ? `${p.field}: ` : ""}
              {p.message}
            </li>
          ))}
        </ul>
      )}
      {shown.length > 0 && (
        <ol className="mt-2 divide-y divide-slate-100 rounded-md border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-700" aria-label="Import report, line by line">
          {shown.map((entry, i) => {
            const d = describe(entry);
            return (
              <li key={i} className="grid grid-cols-[3rem_1fr] gap-x-2 px-2 py-1.5" data-testid="import-entry" data-outcome={entry.outcome.type} data-line={entry.line ?? undefined}>
                <span className="text-right font-mono text-xs text-slate-400 tabular-nums" title={entry.line !== null ? `Line ${entry.line}` : undefined}>
                  {entry.line ?? ""}
                </span>
                <div className="min-w-0">
                  <div className="truncate font-mono text-xs text-slate-700 dark:text-slate-300" title={entry.text}>
                    {entry.text || " "}
                  </div>
                  <div className={`${toneClass[d.tone]} break-words`} data-testid="import-entry-outcome">
                    <span aria-hidden="true" className="mr-1">
                      {d.icon}
                    </span>
                    {d.text}
                  </div>
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
