// Light or dark: the system's choice (prefers-color-scheme) unless the reader picked one with the
// toggle, which is remembered. The stylesheet reads `data-theme` on <html>.
import { $, saved } from "./client.js";

const media = () => window.matchMedia("(prefers-color-scheme: dark)");
const isDark = () => {
  const chosen = saved.get("theme");
  return chosen ? chosen === "dark" : media().matches;
};

export function applyTheme() {
  const chosen = saved.get("theme");
  if (chosen) document.documentElement.dataset.theme = chosen;
  else delete document.documentElement.dataset.theme;
  $("theme").setAttribute("aria-pressed", String(isDark()));
}

export function wireTheme() {
  $("theme").onclick = () => {
    saved.set("theme", isDark() ? "light" : "dark");
    applyTheme();
  };
  media().addEventListener("change", applyTheme);
}
