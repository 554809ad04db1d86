// Checks the shape of src/ that the compiler cannot: a module (src/modules/<name>/) is reached
// from outside only through its index.ts, and no file imports itself back through a cycle of
// imports (type-only imports included, since a cycle of types still ties two layers together).
// Prints every breach and exits 1 when there is one; run by `npm run lint`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const modules = path.join(src, 'modules');
const skipped = new Set([path.join(src, 'generated')]);

function sourceFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir).sort()) {
    const file = path.join(dir, entry);
    if (skipped.has(file)) continue;
    if (statSync(file).isDirectory()) found.push(...sourceFiles(file));
    else if (/\.(ts|mts|js|mjs)$/.test(entry) && !entry.endsWith('.d.ts')) found.push(file);
  }
  return found;
}

// Static imports and re-exports (over several lines too), side-effect imports, dynamic imports.
const SPECIFIERS = [
  /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const targets = new Set();
  for (const pattern of SPECIFIERS) {
    for (const match of text.matchAll(pattern)) {
      const specifier = match[1];
      if (!specifier.startsWith('.')) continue;
      targets.add(path.resolve(path.dirname(file), specifier));
    }
  }
  return [...targets];
}

/** The module a file belongs to (`accounts` for src/modules/accounts/x.ts), or null. */
function moduleOf(file) {
  const relative = path.relative(modules, file);
  if (relative.startsWith('..') || !relative.includes(path.sep)) return null;
  return relative.split(path.sep)[0];
}

const rel = (file) => path.relative(root, file);
const files = sourceFiles(src);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const breaches = [];

for (const [file, targets] of graph) {
  const own = moduleOf(file);
  for (const target of targets) {
    const theirs = moduleOf(target);
    if (theirs === null || theirs === own) continue;
    if (path.relative(path.join(modules, theirs), target) !== 'index.ts') {
      breaches.push(`${rel(file)} imports ${rel(target)}: import src/modules/${theirs}/index.ts instead`);
    }
  }
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function visit(file) {
  index.set(file, counter);
  low.set(file, counter);
  counter++;
  stack.push(file);
  onStack.add(file);
  for (const target of graph.get(file) ?? []) {
    if (!graph.has(target)) continue;
    if (!index.has(target)) {
      visit(target);
      low.set(file, Math.min(low.get(file), low.get(target)));
    } else if (onStack.has(target)) {
      low.set(file, Math.min(low.get(file), index.get(target)));
    }
  }
  if (low.get(file) === index.get(file)) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    const selfImport = (graph.get(file) ?? []).includes(file);
    if (component.length > 1 || selfImport) cycles.push(component.map(rel).sort());
  }
}
for (const file of files) if (!index.has(file)) visit(file);
for (const cycle of cycles) breaches.push(`import cycle among: ${cycle.join(', ')}`);

if (breaches.length > 0) {
  for (const breach of breaches) console.error(breach);
  console.error(`${breaches.length} import rule(s) broken in src/`);
  process.exit(1);
}
console.log(`imports: ${files.length} files in src/, modules reached through index.ts, no cycle`);
