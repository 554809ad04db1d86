// Splits the single-file contract (openapi.yaml) into the openapi/ folder: the paths of each
// tag (the module that implements them) in openapi/paths/<tag>.yaml, the schemas in one file
// per group (a module's own, or common.yaml for those most modules use), the other components
// in openapi/components/, and openapi/openapi.yaml as the root that names them all with $ref.
// Deterministic: the same openapi.yaml always gives the same files. `npm run contract:bundle`
// turns the folder back into the single document.
//
//   node scripts/split-openapi.mjs [source.yaml] [target-folder]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isMap, isScalar, parseDocument, visit } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.resolve(process.argv[2] ?? path.join(root, 'openapi.yaml'));
const target = path.resolve(process.argv[3] ?? path.join(root, 'openapi'));

// The module that implements each tag's operations; a tag missing here stops the split.
const TAG_MODULE = {
  operations: 'operations',
  accounts: 'accounts',
  sessions: 'accounts',
  profile: 'accounts',
  operator: 'accounts',
  pages: 'accounts',
  badges: 'badges',
  groups: 'groups',
  sharing: 'sharing',
  public: 'sharing',
  connect: 'connect',
  oauth: 'connect',
  'connected-issuers': 'connect',
  'badge-connect': 'connect',
  ob3: 'connect',
  'backpack-connect': 'connect',
  wallet: 'wallet',
  privacy: 'privacy',
};
// Modules in the order they build on one another: a schema several modules use lives with the
// first of them (the one the others depend on), unless most modules use it (common.yaml).
const MODULE_ORDER = [
  'operations',
  'accounts',
  'badges',
  'groups',
  'sharing',
  'connect',
  'wallet',
  'privacy',
];
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const COMPONENT_FILES = {
  securitySchemes: 'components/security-schemes.yaml',
  parameters: 'components/parameters.yaml',
  headers: 'components/headers.yaml',
  responses: 'components/responses.yaml',
  requestBodies: 'components/request-bodies.yaml',
  examples: 'components/examples.yaml',
  links: 'components/links.yaml',
  callbacks: 'components/callbacks.yaml',
  pathItems: 'components/path-items.yaml',
};

const text = readFileSync(source, 'utf8');
const doc = parseDocument(text);
if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0].message}`);
const plain = doc.toJS();

function fail(message) {
  console.error(`split-openapi: ${message}`);
  process.exit(1);
}

/** Every `$ref` string below a plain JS value. */
function refsIn(node, found = new Set()) {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.add(value);
      else refsIn(value, found);
    }
  }
  return found;
}

const decode = (token) => token.replaceAll('~1', '/').replaceAll('~0', '~');
const encode = (token) => token.replaceAll('~', '~0').replaceAll('/', '~1');

function componentOf(ref) {
  const match = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
  if (!match) fail(`a reference the split cannot place: ${ref}`);
  return { kind: match[1], name: decode(match[2]) };
}

function resolve(ref) {
  const { kind, name } = componentOf(ref);
  const value = plain.components?.[kind]?.[name];
  if (value === undefined) fail(`${ref} names no component`);
  return value;
}

// Which module each path belongs to, from its operations' first tags.
const pathModule = new Map();
for (const [route, item] of Object.entries(plain.paths ?? {})) {
  const modules = new Set();
  for (const method of HTTP_METHODS) {
    const op = item[method];
    if (!op) continue;
    const tag = op.tags?.[0];
    if (tag === undefined) fail(`${method.toUpperCase()} ${route} has no tag`);
    const module = TAG_MODULE[tag];
    if (module === undefined) fail(`tag "${tag}" (${method.toUpperCase()} ${route}) names no module`);
    modules.add(module);
  }
  if (modules.size !== 1) fail(`${route} has operations of ${modules.size} modules: ${[...modules]}`);
  pathModule.set(route, [...modules][0]);
}

// Which modules use each component, following references through components.
const users = new Map();
for (const [route, item] of Object.entries(plain.paths ?? {})) {
  const module = pathModule.get(route);
  const seen = new Set();
  const pending = [...refsIn(item)];
  while (pending.length > 0) {
    const ref = pending.pop();
    if (seen.has(ref)) continue;
    seen.add(ref);
    pending.push(...refsIn(resolve(ref)));
  }
  for (const ref of seen) {
    if (!users.has(ref)) users.set(ref, new Set());
    users.get(ref).add(module);
  }
}
const modulesInUse = new Set(pathModule.values());

/** The file (relative to the folder) that holds a component. */
function fileOf(kind, name) {
  if (kind !== 'schemas') {
    const file = COMPONENT_FILES[kind];
    if (!file) fail(`components.${kind} is a kind of component the split does not know`);
    return file;
  }
  const using = users.get(`#/components/schemas/${encode(name)}`) ?? new Set();
  if (using.size === 0 || using.size * 2 > modulesInUse.size) return 'schemas/common.yaml';
  const first = MODULE_ORDER.find((m) => using.has(m));
  return `schemas/${first}.yaml`;
}

/** The reference, from `fromFile`, to what `ref` (an internal one) names. */
function relocate(ref, fromFile) {
  const { kind, name } = componentOf(ref);
  const file = fileOf(kind, name);
  const pointer = `#/${encode(name)}`;
  if (file === fromFile) return pointer;
  let relative = path.posix.relative(path.posix.dirname(fromFile), file);
  if (!relative.startsWith('.')) relative = `./${relative}`;
  return `${relative}${pointer}`;
}

/** A YAML node (comments kept) with every internal $ref rewritten as seen from `file`. */
function movedNode(node, file) {
  const copy = node.clone();
  visit(copy, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === '$ref' && isScalar(pair.value)) {
        const ref = String(pair.value.value);
        if (ref.startsWith('#/')) pair.value.value = relocate(ref, file);
      }
    },
  });
  return copy;
}

const files = new Map();
function fileDocument(file) {
  if (!files.has(file)) {
    const created = new Document({});
    files.set(file, created);
  }
  return files.get(file);
}

function add(file, key, node) {
  const owner = fileDocument(file);
  const pair = owner.createPair(key, movedNode(node, file));
  // A blank line between entries, as between the sections of a hand-written file.
  if (owner.contents.items.length > 0) pair.key.spaceBefore = true;
  owner.contents.add(pair);
}

// Paths, each into its module's file, in the order of the source.
const pathsNode = doc.get('paths', true);
if (!isMap(pathsNode)) fail('the document has no paths');
for (const pair of pathsNode.items) {
  const route = String(pair.key.value);
  add(`paths/${pathModule.get(route)}.yaml`, route, pair.value);
}

// Components, each into its file, in the order of the source.
const componentsNode = doc.get('components', true);
if (componentsNode !== undefined && !isMap(componentsNode)) fail('components is not a map');
for (const kindPair of componentsNode?.items ?? []) {
  const kind = String(kindPair.key.value);
  for (const pair of kindPair.value.items) {
    const name = String(pair.key.value);
    add(fileOf(kind, name), name, pair.value);
  }
}

// The root: everything but paths and components as it was, and those two as references.
const rootDoc = doc.clone();
rootDoc.commentBefore =
  ' The contract, kept in files: paths per tag (the module that implements them) in paths/,\n' +
  ' schemas per group in schemas/, the other components in components/. `npm run\n' +
  ' contract:bundle` bundles them into ../openapi.yaml, the one document the service serves\n' +
  ' and client generators read.';
const rootPaths = rootDoc.createNode({});
for (const route of pathModule.keys()) {
  rootPaths.add(rootDoc.createPair(route, { $ref: `paths/${pathModule.get(route)}.yaml#/${encode(route)}` }));
}
rootDoc.set('paths', rootPaths);
if (componentsNode !== undefined) {
  const rootComponents = rootDoc.createNode({});
  for (const [kind, entries] of Object.entries(plain.components)) {
    const refs = {};
    for (const name of Object.keys(entries)) refs[name] = { $ref: `${fileOf(kind, name)}#/${encode(name)}` };
    rootComponents.add(rootDoc.createPair(kind, refs));
  }
  rootDoc.set('components', rootComponents);
}
const HEADERS = {
  paths: (module) =>
    ` The ${module} module's operations. Part of the contract in openapi/ (see openapi.yaml there).`,
  schemas: (group) =>
    group === 'common'
      ? ' Schemas most modules use. Part of the contract in openapi/ (see openapi.yaml there).'
      : ` Schemas of the ${group} module. Part of the contract in openapi/ (see openapi.yaml there).`,
  components: (kind) => ` Shared ${kind}. Part of the contract in openapi/ (see openapi.yaml there).`,
};

const STRINGIFY = { lineWidth: 0, indent: 2, indentSeq: true, flowCollectionPadding: false };
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
writeFileSync(path.join(target, 'openapi.yaml'), rootDoc.toString(STRINGIFY));
for (const file of [...files.keys()].sort()) {
  const [folder, base] = file.split('/');
  const name = base.replace(/\.yaml$/, '');
  const document = files.get(file);
  document.commentBefore = HEADERS[folder](name.replaceAll('-', ' '));
  mkdirSync(path.join(target, folder), { recursive: true });
  writeFileSync(path.join(target, file), document.toString(STRINGIFY));
}
console.log(
  `split ${path.relative(root, source)} into ${files.size + 1} files in ${path.relative(root, target)}/`,
);

// Lint findings explicitly accepted on the single file follow their operations into openapi/.
const ignoreFile = path.join(root, '.redocly.lint-ignore.yaml');
if (target === path.join(root, 'openapi')) {
  const ignored = parseDocument(readFileSync(ignoreFile, 'utf8'));
  const single = ignored.get('openapi.yaml', true);
  if (isMap(single)) {
    for (const rule of single.items) {
      for (const entry of rule.value.items) {
        const pointer = String(entry.value);
        const match = /^#\/paths\/([^/]+)(\/.*)?$/.exec(pointer);
        if (!match) fail(`${ignoreFile}: ${pointer} is outside paths`);
        const file = `openapi/paths/${pathModule.get(decode(match[1]))}.yaml`;
        const moved = ignored.getIn([file, rule.key.value]) ?? ignored.createNode([]);
        moved.add(`#/${match[1]}${match[2] ?? ''}`);
        ignored.setIn([file, rule.key.value], moved);
      }
    }
    // The note on why a finding is accepted stays at the top of the file.
    const note = ignored.contents.items[0]?.key?.commentBefore;
    if (note && !ignored.commentBefore) ignored.commentBefore = note;
    ignored.delete('openapi.yaml');
    writeFileSync(ignoreFile, ignored.toString(STRINGIFY));
  }
}
