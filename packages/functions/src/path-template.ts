/** A route template (`/api/v1/chat/{id}/stream`) compiled once: its parameter names and a pattern that captures them. */
export interface PathTemplate {
  names: string[];
  pattern: RegExp;
}

export function compilePath(template: string): PathTemplate {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{(\w+)\\?\}/g, (_, n: string) => {
    names.push(n);
    return "([^/]+)";
  });
  return { names, pattern: new RegExp(`^${source}$`) };
}
