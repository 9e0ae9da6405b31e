// Where the timeline chart is in its scroll view: the chart draws only the rows that show (200
// jobs are ~5,600 px of rows, about 20 on screen). The page's layout is read through this
// interface so that tests, which have no layout (jsdom), can set the view and scroll it.
import { createContext } from "react";

/** The part of the chart in view, in CSS px. */
export interface ChartView {
  /** From the chart's top to the view's top (negative: the chart starts below it). */
  top: number;
  height: number;
  /** The chart's drawn width (its viewBox scales to it). */
  width: number;
}

export interface ChartViewport {
  /** Null when there is no layout to read (the chart then draws every row). */
  measure(chart: Element): ChartView | null;
  /** Scrolls the view holding the chart by `dy` px (positive: down). */
  scrollBy(chart: Element, dy: number): void;
  /** Calls `onChange` when the view scrolls or changes size; returns the way to stop. */
  watch(chart: Element, onChange: () => void): () => void;
}

/** The nearest ancestor that scrolls vertically (null: the window). */
function scrollerOf(el: Element): HTMLElement | null {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const overflow = getComputedStyle(p).overflowY;
    if (overflow === "auto" || overflow === "scroll") return p;
  }
  return null;
}

/** The page's own layout. */
export const pageViewport: ChartViewport = {
  measure(chart) {
    const box = chart.getBoundingClientRect();
    if (box.width === 0) return null;
    const scroller = scrollerOf(chart);
    const view = scroller ? scroller.getBoundingClientRect() : { top: 0, height: window.innerHeight };
    if (view.height === 0) return null;
    return { top: view.top - box.top, height: view.height, width: box.width };
  },
  scrollBy(chart, dy) {
    const scroller = scrollerOf(chart);
    if (scroller) scroller.scrollTop += dy;
    else window.scrollBy(0, dy);
  },
  watch(chart, onChange) {
    const scroller = scrollerOf(chart);
    const target: HTMLElement | Window = scroller ?? window;
    target.addEventListener("scroll", onChange, { passive: true });
    window.addEventListener("resize", onChange);
    const resized = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(onChange);
    resized?.observe(chart);
    if (scroller) resized?.observe(scroller);
    return () => {
      target.removeEventListener("scroll", onChange);
      window.removeEventListener("resize", onChange);
      resized?.disconnect();
    };
  },
};

export const ChartViewportContext = createContext<ChartViewport>(pageViewport);
