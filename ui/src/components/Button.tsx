import type { ButtonHTMLAttributes } from "react";

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost";

const base =
  "inline-flex items-center justify-center gap-1.5 rounded-md px-3 py-1.5 text-sm font-medium " +
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 " +
  "disabled:cursor-not-allowed disabled:opacity-60";

const variants: Record<ButtonVariant, string> = {
  primary: "bg-sky-600 text-white shadow-sm hover:bg-sky-700",
  secondary:
    "border border-slate-300 bg-white text-slate-800 shadow-sm hover:bg-slate-50 " +
    "dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700",
  danger: "bg-red-600 text-white shadow-sm hover:bg-red-700",
  ghost: "text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800",
};

/** The classes of a button, for elements that are not <button> (links, labels). */
export function buttonClass(variant: ButtonVariant = "secondary", extra = ""): string {
  return `${base} ${variants[variant]} ${extra}`;
}

export function Button({
  variant = "secondary",
  className = "",
  type = "button",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant }) {
  return <button type={type} className={buttonClass(variant, className)} {...props} />;
}

/** Classes shared by text inputs and selects, without a width. */
export const fieldClass =
  "block rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm shadow-sm " +
  "placeholder:text-slate-400 focus-visible:border-sky-600 focus-visible:outline-2 focus-visible:outline-sky-600/40 " +
  "aria-[invalid=true]:border-red-600 dark:border-slate-600 dark:bg-slate-900";

/** A text input or select filling its container's width. */
export const inputClass = `${fieldClass} w-full`;
