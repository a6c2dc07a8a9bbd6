/**
 * `npm run import-graph`: which part of the code imports which, as edges between contexts
 * (functions, shared/<folder>, local/<folder>, packages/<package>), from the import lines
 * themselves; an import of a workspace package by its name counts as an edge to that package. The
 * direction is enforced by `npm run lint` (LAYERS and the packages' rule in eslint.config.js); this
 * shows the picture.
 */
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";

const files = execFileSync(
  "git",
  ["ls-files", "functions", "shared", "local", "--", "*.ts", "packages/*.js", "packages/*.cjs"],
  { encoding: "utf8" },
)
  .split("\n")
  .filter(Boolean);

/** Each workspace package's name, and its folder. */
const workspaces = new Map(
  files
    .filter((file) => /^packages\/[^/]+\/src\//.test(file))
    .map((file) => file.split("/").slice(0, 2).join("/"))
    .map((folder) => [
      (JSON.parse(readFileSync(path.join(folder, "package.json"), "utf8")) as { name: string }).name,
      folder,
    ]),
);

function contextOf(file: string): string {
  const [top, second] = file.split("/");
  if (top === "functions") return "functions";
  return second && !second.endsWith(".ts") ? `${top}/${second}` : `${top}/*.ts`;
}

function targetOf(file: string, specifier: string): string | undefined {
  if (specifier.startsWith(".")) return contextOf(path.normalize(path.join(path.dirname(file), specifier)));
  const name = specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
  return workspaces.get(name);
}

const edges = new Map<string, Set<string>>();
for (const file of files) {
  const from = contextOf(file);
  const source = readFileSync(file, "utf8");
  // Imports and re-exports, one line or several; require() in CommonJS files.
  const specifiers = [
    ...source.matchAll(/^(?:import|export) [^;]*? from "([^"]+)";$/gm),
    ...source.matchAll(/require\("([^"]+)"\)/g),
  ].map(([, specifier]) => specifier!);
  for (const specifier of specifiers) {
    const to = targetOf(file, specifier);
    if (to === undefined || to === from) continue;
    edges.set(from, (edges.get(from) ?? new Set()).add(to));
  }
}
for (const [from, targets] of [...edges].sort(([a], [b]) => a.localeCompare(b)))
  console.log(`${from.padEnd(22)} -> ${[...targets].sort().join(", ")}`);
const cycles = [...edges].flatMap(([from, targets]) =>
  [...targets].filter((to) => edges.get(to)?.has(from)).map((to) => `${from} <-> ${to}`),
);
console.log(cycles.length ? `\ncycles between contexts: ${cycles.join("; ")}` : "\nno cycles between contexts");
