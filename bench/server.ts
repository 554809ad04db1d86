// The benchmark server: the production app (same config path, plugins and hooks) plus the
// "from memory" baselines, routes that answer the recorded payloads through the response
// schemas of the operations they mirror. The real routes are untouched.
import { readFileSync } from 'node:fs';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { loadContract } from '../src/http/contract.ts';

interface Payloads {
  list: unknown;
  shareJson: unknown;
  shareHtml: string;
}

const payloads = JSON.parse(readFileSync(String(process.env.BENCH_PAYLOADS), 'utf8')) as Payloads;
const config = loadConfig();
const app = await buildApp({ config });
const doc = loadContract().document as {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: Record<string, unknown>;
};

// The response schema of the mirrored operation, its $refs pointing into the contract added
// as a shared schema, so serialization does the same work as on the real route.
app.addSchema({ $id: 'contract', components: doc.components });
function responseSchema(path: string, type: string): unknown {
  const response = doc.paths[path]?.get?.responses['200'] as { content: Record<string, { schema: unknown }> };
  return JSON.parse(
    JSON.stringify(response.content[type]?.schema).replaceAll('"#/components/', '"contract#/components/'),
  );
}
const listSchema = responseSchema('/v1/badges', 'application/json');
const shareSchema = responseSchema('/share/{token}', 'application/json');
app.get('/bench/memory/list', { schema: { response: { 200: listSchema } } }, async () => payloads.list);
app.get(
  '/bench/memory/share.json',
  { schema: { response: { 200: shareSchema } } },
  async () => payloads.shareJson,
);
app.get('/bench/memory/share.html', async (_request, reply) =>
  reply.type('text/html; charset=utf-8').send(payloads.shareHtml),
);

await app.listen({ host: '127.0.0.1', port: config.port });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
