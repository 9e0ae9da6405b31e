// The missed-run ledger as the timeline shades it: one stretch per wake (entries noticed at the
// same instant, for the same cause), from when the gap began to when Sundial noticed it.
import type { MissedCause } from "../../bindings/MissedCause";
import type { MissedGap } from "../../bindings/MissedGap";
import type { RunMark } from "../../bindings/RunMark";
import type { Gap } from "./TimelineChart";

const CAUSE_WORDS: Record<MissedCause, string> = {
  asleep: "Asleep",
  not_running: "Sundial closed",
  clock_changed: "Clock set forward",
  paused: "Paused",
  stalled: "Sundial stalled",
  on_battery: "On battery",
  offline: "Offline",
};

/** Ledger entries (one per job) grouped into the stretches the timeline draws. A group starts
 * at its latest `gap_start`: each entry's start is when that job last fired or, for a sleep
 * or clock change, when the clock jumped; the latest is the closest to when the gap began. */
export function gapsOfLedger(entries: MissedGap[]): Gap[] {
  const groups = new Map<string, MissedGap[]>();
  for (const e of entries) {
    const key = `${e.noticed_at}|${e.cause}`;
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  return [...groups.values()]
    .map((group) => {
      const first = group[0] as MissedGap;
      const start = group.reduce((latest, e) => (Date.parse(e.gap_start) > Date.parse(latest) ? e.gap_start : latest), first.gap_start);
      const missed = group.reduce((n, e) => n + e.missed, 0);
      const ran = group.reduce((n, e) => n + e.ran, 0);
      const more = group.some((e) => !e.counted_all) ? "more than " : "";
      const jobs = group.length === 1 ? "1 job" : `${group.length} jobs`;
      const caught = ran === 0 ? "" : `, ${ran} caught up`;
      return {
        start,
        end: first.noticed_at,
        label: CAUSE_WORDS[first.cause],
        detail: `${CAUSE_WORDS[first.cause]} — ${jobs} missed ${more}${missed} firing${missed === 1 && !more ? "" : "s"}${caught}`,
      };
    })
    .sort((a, b) => a.start.localeCompare(b.start));
}

/** The runs without the history rows that stand for ledger entries: the shaded stretch says
 * what they say, and as bars they would cover it. */
export function withoutLedgerRows(runs: RunMark[], entries: MissedGap[]): RunMark[] {
  if (entries.length === 0) return runs;
  // A firing whose condition was not met in time but that ran anyway has its own run as the
  // entry's row: that bar stays.
  const ledger = new Set(entries.filter((e) => e.ran === 0 || !(e.cause === "on_battery" || e.cause === "offline")).map((e) => e.run_id));
  return runs.filter((r) => !ledger.has(r.id));
}
