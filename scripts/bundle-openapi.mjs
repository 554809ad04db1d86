// Bundles the contract kept in openapi/ (root openapi/openapi.yaml) into openapi.yaml, the one
// document the service serves and client generators read, with Redocly. `--check` writes
// nothing and fails when openapi.yaml is not what a fresh bundle gives (an edit made to the
// bundle instead of openapi/, or a bundle not redone after one); `npm run lint` runs it.
//
//   node scripts/bundle-openapi.mjs [--check]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'openapi', 'openapi.yaml');
const bundle = path.join(root, 'openapi.yaml');
const check = process.argv.includes('--check');

const HEADER =
  '# Bundled from openapi/ by `npm run contract:bundle`: edit the files there, then bundle again.\n';

const scratch = mkdtempSync(path.join(tmpdir(), 'openapi-bundle-'));
let fresh;
try {
  const output = path.join(scratch, 'openapi.yaml');
  execFileSync(path.join(root, 'node_modules', '.bin', 'redocly'), ['bundle', source, '-o', output], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  fresh = HEADER + readFileSync(output, 'utf8');
} catch (err) {
  console.error(String(err.stderr ?? err.message));
  process.exit(1);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (check) {
  let current = '';
  try {
    current = readFileSync(bundle, 'utf8');
  } catch {
    // A missing bundle is as stale as an outdated one.
  }
  if (current !== fresh) {
    console.error(
      'openapi.yaml is not the bundle of openapi/: edit openapi/, then run npm run contract:bundle',
    );
    process.exit(1);
  }
  console.log('openapi.yaml is the bundle of openapi/');
} else {
  writeFileSync(bundle, fresh);
  console.log('bundled openapi/ into openapi.yaml');
}
