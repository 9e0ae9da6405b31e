// The timeline's windows, zoom levels and axis ticks: pure, so the tests can pin them.
import { dateFormat } from "../../app/intl";

export type Zoom = "hour" | "day" | "week";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const zoomSpan: Record<Zoom, number> = { hour: HOUR, day: DAY, week: 7 * DAY };
export const zoomLabel: Record<Zoom, string> = { hour: "Hour", day: "Day", week: "Week" };
/** How far a zoom level's window reaches past now when it shows now: room for the next runs. */
const AHEAD: Record<Zoom, number> = { hour: 10 * MINUTE, day: 3 * HOUR, week: DAY };
const TICK: Record<Zoom, number> = { hour: 10 * MINUTE, day: 3 * HOUR, week: DAY };

export interface TimeWindow {
  from: number;
  to: number;
}

/** The window of a zoom level ending `offset` windows-halves before the one that shows now. */
export function windowAt(zoom: Zoom, now: number, offset: number): TimeWindow {
  const span = zoomSpan[zoom];
  const to = now + AHEAD[zoom] + (offset * span) / 2;
  return { from: to - span, to };
}

/** The window a view's data is fetched for: the view and at least a quarter of its span either
 * side, snapped to quarter spans, so that panning by less than that asks for nothing new (and
 * runs coming in from the edge are already there). At most 1.75 spans (a week: 12¼ days). */
export function fetchWindow(zoom: Zoom, view: TimeWindow): TimeWindow {
  const quarter = zoomSpan[zoom] / 4;
  const from = Math.floor(view.from / quarter) * quarter - quarter;
  return { from, to: from + 7 * quarter };
}

/** One step in and out: "+" shows less time, "-" more. */
export function zoomIn(zoom: Zoom): Zoom {
  return zoom === "week" ? "day" : "hour";
}
export function zoomOut(zoom: Zoom): Zoom {
  return zoom === "hour" ? "day" : "week";
}

/** Rounds a window to the minute, so a query key does not change with every render. */
export function roundWindow(w: TimeWindow): TimeWindow {
  return { from: Math.floor(w.from / MINUTE) * MINUTE, to: Math.ceil(w.to / MINUTE) * MINUTE };
}

/** Tick instants inside the window, on local-time boundaries (whole hours, days at midnight). */
export function ticks(zoom: Zoom, w: TimeWindow): number[] {
  const step = TICK[zoom];
  const start = new Date(w.from);
  if (zoom === "week") start.setHours(0, 0, 0, 0);
  else if (zoom === "day") start.setHours(start.getHours() - (start.getHours() % 3), 0, 0, 0);
  else start.setMinutes(start.getMinutes() - (start.getMinutes() % 10), 0, 0);
  const out: number[] = [];
  for (let t = start.getTime(); t <= w.to; ) {
    if (t >= w.from) out.push(t);
    const next = new Date(t);
    // Days by the calendar, so a DST change does not shift the midnight ticks.
    if (zoom === "week") next.setDate(next.getDate() + 1);
    else next.setTime(t + step);
    t = next.getTime();
  }
  return out;
}

export function tickLabel(zoom: Zoom, t: number): string {
  const d = new Date(t);
  if (zoom === "week") return dateFormat({ weekday: "short", day: "numeric", month: "short" }).format(d);
  const time = dateFormat({ hour: "2-digit", minute: "2-digit" }).format(d);
  if (zoom === "day" && d.getHours() === 0) return dateFormat({ weekday: "short", day: "numeric" }).format(d);
  return time;
}
