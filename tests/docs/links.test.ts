// The README and docs/ are read on GitHub: every relative link must reach a file of the repository, every
// `#anchor` a heading of its target (slugged as GitHub does, github-slugger), and every citation
// (`[[G-models]]`) a reference definition in the same file, since Markdown definitions do not cross files.
// Links are read with a CommonMark parser (markdown-it), so code blocks and code spans hold no links.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import GithubSlugger from "github-slugger";
import MarkdownIt, { type Token } from "markdown-it";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const README_MAX_LINES = 200;

interface Problem {
  file: string;
  link: string;
  reason: string;
}

/** A document to check: its path (absolute) and its text. */
interface Doc {
  path: string;
  text: string;
}

/** How the checker sees the file system (the real one, or a few files for the cases below). */
interface Files {
  exists(path: string): boolean;
  read(path: string): string | undefined;
}

const md = new MarkdownIt({ html: true });

/** A citation label as the docs write them: G-models, S1, A-ric-stream, N-node52275. */
const UNDEFINED_CITATION = /\[([A-Z]\d+|[A-Z]-[\w.-]+)\]/g;

function inlineText(inline: Token | undefined): string {
  return (inline?.children ?? [])
    .filter((t) => t.type === "text" || t.type === "code_inline")
    .map((t) => t.content)
    .join("");
}

/** The anchors GitHub gives the headings of a Markdown document (duplicates get -1, -2, …). */
function anchorsOf(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const tokens = md.parse(text, {});
  const anchors = new Set<string>();
  tokens.forEach((t, i) => {
    if (t.type === "heading_open") anchors.add(slugger.slug(inlineText(tokens[i + 1])));
  });
  return anchors;
}

interface Found {
  links: string[];
  undefinedCitations: string[];
}

function scan(text: string): Found {
  const links: string[] = [];
  const undefinedCitations: string[] = [];
  for (const block of md.parse(text, {})) {
    for (const t of block.children ?? []) {
      if (t.type === "link_open") links.push(String(t.attrGet("href") ?? ""));
      if (t.type === "image") links.push(String(t.attrGet("src") ?? ""));
      // A reference with a definition became a link; one without stays text, brackets and all.
      if (t.type === "text") for (const m of t.content.matchAll(UNDEFINED_CITATION)) undefinedCitations.push(m[1]!);
      if (t.type === "html_inline") {
        const href = /\s(?:href|src)="([^"]*)"/.exec(t.content)?.[1];
        if (href !== undefined) links.push(href);
      }
    }
  }
  return { links, undefinedCitations };
}

const isExternal = (href: string) => /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("//");

function problemsOf(docs: Doc[], files: Files, root: string): Problem[] {
  const problems: Problem[] = [];
  const anchorCache = new Map<string, Set<string> | undefined>();
  const anchorsIn = (path: string) => {
    if (!anchorCache.has(path)) {
      const text = files.read(path);
      anchorCache.set(path, text === undefined ? undefined : anchorsOf(text));
    }
    return anchorCache.get(path);
  };
  for (const doc of docs) {
    const file = relative(root, doc.path);
    const { links, undefinedCitations } = scan(doc.text);
    for (const label of undefinedCitations)
      problems.push({ file, link: `[${label}]`, reason: "no reference definition in this file" });
    for (const link of links) {
      if (link === "") {
        problems.push({ file, link, reason: "empty link" });
        continue;
      }
      if (isExternal(link)) continue;
      const hash = link.indexOf("#");
      const pathPart = decodeURIComponent(hash < 0 ? link : link.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(link.slice(hash + 1));
      const target = pathPart === "" ? doc.path : resolve(dirname(doc.path), pathPart);
      if (relative(root, target).startsWith("..")) {
        problems.push({ file, link, reason: "leaves the repository" });
        continue;
      }
      if (!files.exists(target)) {
        problems.push({ file, link, reason: `no such file: ${relative(root, target)}` });
        continue;
      }
      if (anchor === undefined) continue;
      if (!target.endsWith(".md")) {
        problems.push({ file, link, reason: "an anchor into a file that is not Markdown" });
        continue;
      }
      if (!anchorsIn(target)?.has(anchor))
        problems.push({ file, link, reason: `no heading with the anchor #${anchor} in ${relative(root, target)}` });
    }
  }
  return problems;
}

const disk: Files = {
  exists: (path) => existsSync(path),
  read: (path) => (existsSync(path) ? readFileSync(path, "utf8") : undefined),
};

const docFiles = () => [
  join(ROOT, "README.md"),
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => join(ROOT, "docs", f)),
];

/** A few files in memory under /repo, for the cases that must fail. */
function memory(files: Record<string, string>): { docs: Doc[]; files: Files } {
  const at = (rel: string) => join("/repo", rel);
  const byPath = new Map(Object.entries(files).map(([rel, text]) => [at(rel), text]));
  const dirs = new Set([...byPath.keys()].flatMap((p) => [dirname(p)]));
  return {
    docs: [...byPath].filter(([p]) => p.endsWith(".md")).map(([path, text]) => ({ path, text })),
    files: { exists: (p) => byPath.has(p) || dirs.has(p), read: (p) => byPath.get(p) },
  };
}
const check = (files: Record<string, string>) => {
  const m = memory(files);
  return problemsOf(m.docs, m.files, "/repo");
};

describe("the link checker", () => {
  it("finds nothing wrong with links that resolve, anchors slugged as GitHub does", () => {
    expect(
      check({
        "README.md": "# Project\n\n[lifecycle](docs/a.md#a-replys-lifecycle), [dev](docs/a.md#sst-dev), [code](src/x.ts), [top](#project)\n",
        "docs/a.md":
          "# A\n\n## A reply's lifecycle\n\n### `sst dev`\n\n## Branches: regenerate, edit, switch\n\n[back](../README.md#project) [b](#branches-regenerate-edit-switch) [[G-x]]\n\n[G-x]: https://example.com\n",
        "src/x.ts": "",
      }),
    ).toEqual([]);
  });

  it("reports a link to a file that does not exist", () => {
    expect(check({ "README.md": "[gone](docs/missing.md)\n" })).toEqual([
      { file: "README.md", link: "docs/missing.md", reason: "no such file: docs/missing.md" },
    ]);
  });

  it("reports an anchor with no heading, in another file or in the same one", () => {
    const problems = check({
      "README.md": "# Top\n\n[a](docs/a.md#not-there) [b](#nowhere) [c](docs/a.md#intro)\n",
      "docs/a.md": "# Intro\n",
    });
    expect(problems.map((p) => p.link)).toEqual(["docs/a.md#not-there", "#nowhere"]);
  });

  it("tells headings apart as GitHub does: a repeated heading's anchor gets -1", () => {
    const doc = "## Notes\n\n## Notes\n\n[first](#notes) [second](#notes-1) [third](#notes-2)\n";
    expect(check({ "README.md": doc }).map((p) => p.link)).toEqual(["#notes-2"]);
  });

  it("reports a citation whose definition lives in another file, and ignores links inside code", () => {
    const problems = check({
      "README.md": "Groq retires models [[G-deprec]].\n\n```md\n[not a link](nowhere.md)\n```\n\n`[S1]` and [x](gone.md)\n",
      "docs/sources.md": "[G-deprec]: https://console.groq.com/docs/deprecations\n",
    });
    expect(problems).toEqual([
      { file: "README.md", link: "[G-deprec]", reason: "no reference definition in this file" },
      { file: "README.md", link: "gone.md", reason: "no such file: gone.md" },
    ]);
  });

  it("reports a link out of the repository", () => {
    expect(check({ "docs/a.md": "[up](../../etc/passwd)\n" }).map((p) => p.reason)).toEqual(["leaves the repository"]);
  });
});

describe("README.md and docs/", () => {
  const docs = docFiles().map((path) => ({ path, text: readFileSync(path, "utf8") }));

  it("have no broken relative link, anchor or citation", () => {
    expect(problemsOf(docs, disk, ROOT)).toEqual([]);
  });

  it("README.md is a page, at most 200 lines", () => {
    const readme = docs[0]!.text;
    const lines = readme.endsWith("\n") ? readme.slice(0, -1).split("\n").length : readme.split("\n").length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it("README.md links every document in docs/", () => {
    const linked = new Set(scan(docs[0]!.text).links.map((l) => l.split("#")[0]));
    const unlinked = docs.slice(1).map((d) => relative(ROOT, d.path)).filter((p) => !linked.has(p));
    expect(unlinked).toEqual([]);
  });

  it("say why, not when: no issue numbers", () => {
    const named = docs.filter((d) => /\bissue [0-9]/i.test(d.text)).map((d) => relative(ROOT, d.path));
    expect(named).toEqual([]);
  });
});
