// The log viewer's viewport: which positions are on screen (`top`, or pinned to the end while
// following), its measured height in rows, scrolling by keys, wheel and position, and the
// range of positions to render.
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { ROW_HEIGHT } from "./LogRow";

/** Rows assumed when the viewport cannot be measured (no ResizeObserver, e.g. in tests). */
const FALLBACK_ROWS = 40;

export interface Viewport {
  setElement: (el: HTMLDivElement | null) => void;
  rows: number;
  /** The first position on screen. */
  top: number;
  maxTop: number;
  pinned: boolean;
  wrap: boolean;
  setWrap: (update: (wrap: boolean) => boolean) => void;
  /** Positions `[firstRendered, lastRendered)` are drawn. */
  firstRendered: number;
  lastRendered: number;
  scrollTo: (position: number) => void;
  scrollBy: (delta: number) => void;
  toEnd: () => void;
  /** Brings `position` into view, a third from the top. */
  reveal: (position: number) => void;
  /** Puts the top at `position` without unpinning logic (a stream filter keeps its line). */
  setTop: (position: number) => void;
  /** Stops following the end, staying where the end is now. */
  unpin: () => void;
  onKeyDown: (e: KeyboardEvent<HTMLDivElement>) => void;
}

/** `pinned` (following the end) is the viewer's: following a live log starts pinned. */
export function useViewport(total: number, pinned: boolean, setPinned: (pinned: boolean) => void): Viewport {
  const [top, setTop] = useState(0);
  const [wrap, setWrap] = useState(false);
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const [height, setHeight] = useState(0);
  const rows = height > 0 ? Math.max(1, Math.floor(height / ROW_HEIGHT)) : FALLBACK_ROWS;
  const pinTop = Math.max(0, total - rows);
  // Wrapped lines are taller than a row: let the last line come up to the top rather than
  // skip lines below a wrapped screen; End pins the tail to the bottom.
  const maxTop = wrap ? Math.max(0, total - 1) : pinTop;
  const effectiveTop = pinned ? pinTop : Math.min(top, maxTop);
  const firstRendered = pinned ? Math.max(0, total - rows - 1) : effectiveTop;
  const lastRendered = Math.min(total, pinned ? total : effectiveTop + rows + 1);

  const scrollTo = useCallback(
    (position: number) => {
      const next = Math.max(0, Math.min(Math.round(position), maxTop));
      setTop(next);
      setPinned(!wrap && total > 0 && next >= pinTop);
    },
    [maxTop, pinTop, total, wrap, setPinned],
  );
  const scrollBy = useCallback((delta: number) => scrollTo(effectiveTop + delta), [scrollTo, effectiveTop]);
  const toEnd = useCallback(() => {
    setTop(pinTop);
    setPinned(true);
  }, [pinTop, setPinned]);
  const reveal = useCallback((position: number) => scrollTo(position - Math.floor(rows / 3)), [scrollTo, rows]);
  const unpin = useCallback(() => {
    setTop(pinTop);
    setPinned(false);
  }, [pinTop, setPinned]);

  // Measure the viewport.
  useEffect(() => {
    if (!element || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver((entries) => {
      const h = entries[0]?.contentRect.height ?? 0;
      setHeight(h);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);

  // Wheel: lines per frame, fractions kept.
  const wheel = useRef({ pending: 0, frame: 0 });
  const scrollByRef = useRef(scrollBy);
  useEffect(() => {
    scrollByRef.current = scrollBy;
  });
  useEffect(() => {
    if (!element) return;
    const state = wheel.current;
    const onWheel = (e: WheelEvent) => {
      if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) return; // horizontal: the browser scrolls
      const lines = e.deltaMode === 1 ? e.deltaY : e.deltaMode === 2 ? e.deltaY * rows : e.deltaY / ROW_HEIGHT;
      state.pending += lines;
      if (state.frame !== 0) return;
      const apply = () => {
        state.frame = 0;
        const whole = Math.trunc(state.pending);
        state.pending -= whole;
        if (whole !== 0) scrollByRef.current(whole);
      };
      state.frame = typeof requestAnimationFrame === "function" ? requestAnimationFrame(apply) : window.setTimeout(apply, 16);
    };
    // The scrollbar beside the lines scrolls them too.
    const area = element.parentElement ?? element;
    area.addEventListener("wheel", onWheel, { passive: true });
    return () => area.removeEventListener("wheel", onWheel);
  }, [element, rows]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, rows - 1);
    const keys: Record<string, () => void> = {
      ArrowDown: () => scrollBy(1),
      ArrowUp: () => scrollBy(-1),
      PageDown: () => scrollBy(page),
      PageUp: () => scrollBy(-page),
      " ": () => scrollBy(e.shiftKey ? -page : page),
      Home: () => scrollTo(0),
      End: toEnd,
    };
    const action = keys[e.key];
    if (action && !e.altKey) {
      e.preventDefault();
      action();
    }
  };

  return {
    setElement,
    rows,
    top: effectiveTop,
    maxTop,
    pinned,
    wrap,
    setWrap,
    firstRendered,
    lastRendered,
    scrollTo,
    scrollBy,
    toEnd,
    reveal,
    setTop,
    unpin,
    onKeyDown,
  };
}
