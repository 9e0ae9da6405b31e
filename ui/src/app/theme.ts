import { useEffect } from "react";
import type { Theme } from "../bindings/Theme";

const DARK_QUERY = "(prefers-color-scheme: dark)";

/** Whether the window is dark: the setting, or the system's choice for "system". */
export function isDark(theme: Theme, systemDark: boolean): boolean {
  return theme === "dark" || (theme === "system" && systemDark);
}

/** Applies the theme to the document (Tailwind's `dark:` variants follow the `dark` class) and
 * follows the system while the setting is "system". */
export function useTheme(theme: Theme): void {
  useEffect(() => {
    const media = typeof window.matchMedia === "function" ? window.matchMedia(DARK_QUERY) : null;
    const apply = () => {
      const dark = isDark(theme, media?.matches ?? false);
      document.documentElement.classList.toggle("dark", dark);
      document.documentElement.style.colorScheme = dark ? "dark" : "light";
    };
    apply();
    media?.addEventListener("change", apply);
    return () => media?.removeEventListener("change", apply);
  }, [theme]);
}
