// Class names shared by the log viewer's controls.

export const toggleClass = (on: boolean) =>
  "rounded-md border px-2 py-1 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-600 disabled:opacity-50 " +
  (on
    ? "border-sky-600 bg-sky-50 text-sky-800 dark:border-sky-500 dark:bg-sky-950 dark:text-sky-200"
    : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700");

export const iconButton =
  "inline-flex h-7 min-w-7 items-center justify-center rounded-md border border-slate-300 bg-white px-1.5 text-xs text-slate-700 hover:bg-slate-50 " +
  "focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-600 disabled:opacity-50 " +
  "dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700";
