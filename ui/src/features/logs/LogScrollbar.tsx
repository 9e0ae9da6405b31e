import { useRef, type PointerEvent } from "react";

interface ScrollbarProps {
  /** Id of the element it scrolls. */
  controls: string;
  top: number;
  maxTop: number;
  /** Lines on screen. */
  rows: number;
  total: number;
  onScroll: (top: number) => void;
}

/** A vertical scrollbar over line positions rather than pixels: a log of ten million lines
 * would be far taller than a browser lets an element be. */
export function LogScrollbar({ controls, top, maxTop, rows, total, onScroll }: ScrollbarProps) {
  const track = useRef<HTMLDivElement>(null);
  const drag = useRef<{ y: number; top: number; span: number } | null>(null);
  const fraction = total <= 0 ? 1 : Math.min(1, Math.max(rows / total, 0.04));
  const offset = maxTop <= 0 ? 0 : Math.min(1, top / maxTop) * (1 - fraction);
  const scrollable = maxTop > 0;

  const onTrackDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget || !track.current || !scrollable) return;
    const rect = track.current.getBoundingClientRect();
    const y = (e.clientY - rect.top) / Math.max(1, rect.height);
    // Clicking the track pages towards the click.
    onScroll(y < offset ? top - Math.max(1, rows - 1) : top + Math.max(1, rows - 1));
  };

  const onThumbDown = (e: PointerEvent<HTMLDivElement>) => {
    if (!track.current || !scrollable) return;
    e.preventDefault();
    const rect = track.current.getBoundingClientRect();
    drag.current = { y: e.clientY, top, span: rect.height * (1 - fraction) };
    e.currentTarget.setPointerCapture?.(e.pointerId);
  };

  const onThumbMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d || d.span <= 0) return;
    onScroll(Math.round(d.top + ((e.clientY - d.y) / d.span) * maxTop));
  };

  const onThumbUp = (e: PointerEvent<HTMLDivElement>) => {
    drag.current = null;
    e.currentTarget.releasePointerCapture?.(e.pointerId);
  };

  return (
    <div
      ref={track}
      role="scrollbar"
      aria-label="Scroll log"
      aria-controls={controls}
      aria-orientation="vertical"
      aria-valuemin={0}
      aria-valuemax={Math.max(0, maxTop)}
      aria-valuenow={Math.min(top, Math.max(0, maxTop))}
      aria-valuetext={total > 0 ? `Line ${(top + 1).toLocaleString("en-US")} of ${total.toLocaleString("en-US")}` : "Empty"}
      tabIndex={-1}
      data-testid="log-scrollbar"
      onPointerDown={onTrackDown}
      className="absolute top-0 right-0 bottom-0 w-3 border-l border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-900"
    >
      {scrollable && (
        <div
          onPointerDown={onThumbDown}
          onPointerMove={onThumbMove}
          onPointerUp={onThumbUp}
          onPointerCancel={onThumbUp}
          className="absolute right-0.5 left-0.5 min-h-6 cursor-grab rounded-full bg-slate-300 hover:bg-slate-400 active:cursor-grabbing active:bg-slate-500 dark:bg-slate-600 dark:hover:bg-slate-500"
          style={{ top: `${offset * 100}%`, height: `${fraction * 100}%` }}
          data-testid="log-scrollbar-thumb"
        />
      )}
    </div>
  );
}
