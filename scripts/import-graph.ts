/**
 * `npm run import-graph`: which part of the code imports which, as edges between contexts
 * (functions, shared/<folder>, local/<folder>), from the import lines themselves. The direction
 * is enforced by `npm run lint` (LAYERS in eslint.config.js); this shows the picture.
 */
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";

const files = execFileSync("git", ["ls-files", "functions", "shared", "local", "--", "*.ts"], { encoding: "utf8" }).split("\n").filter(Boolean);

function contextOf(file: string): string {
  const [top, second] = file.split("/");
  if (top === "functions") return "functions";
  return second && !second.endsWith(".ts") ? `${top}/${second}` : `${top}/*.ts`;
}

const edges = new Map<string, Set<string>>();
for (const file of files) {
  const from = contextOf(file);
  for (const [, target] of readFileSync(file, "utf8").matchAll(/^import .* from "(\.[^"]+)";$/gm)) {
    const to = contextOf(path.normalize(path.join(path.dirname(file), target!)));
    if (to === from) continue;
    edges.set(from, (edges.get(from) ?? new Set()).add(to));
  }
}
for (const [from, targets] of [...edges].sort(([a], [b]) => a.localeCompare(b))) console.log(`${from.padEnd(22)} -> ${[...targets].sort().join(", ")}`);
const cycles = [...edges].flatMap(([from, targets]) => [...targets].filter((to) => edges.get(to)?.has(from)).map((to) => `${from} <-> ${to}`));
console.log(cycles.length ? `\ncycles between contexts: ${cycles.join("; ")}` : "\nno cycles between contexts");
