// Summarizes a V8 .cpuprofile: self time per function and per package, largest first.
//   npx tsx bench/profile-summary.ts bench/results/profiles/<file>.cpuprofile
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const profile = JSON.parse(readFileSync(String(process.argv[2]), 'utf8')) as {
  nodes: Node[];
  samples: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const counts = new Map<number, number>();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const total = profile.samples.length;
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, n] of counts) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const pkg =
    /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
    (url.includes('/src/') ? 'project' : url || '(native)');
  const key = `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, '').replace(/.*\/work\/main\//, '')}:${lineNumber}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + n);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + n);
}
const top = (m: Map<string, number>, k: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
console.log(
  `samples: ${total}\n\nby package:\n${top(byPackage, 20)}\n\nby function:\n${top(byFunction, 35)}`,
);
