// NUL characters are refused in every parameter and JSON string: PostgreSQL cannot store them
// in text (SQLite can), so without this the same request would be a 400 on one database and a
// failure on the other. No field of this API has a use for them.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

type Part = 'params' | 'querystring' | 'body';

const MAX_DEPTH = 64;

function findNul(value: unknown, pointer: string, depth: number): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer : null;
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return null;
  for (const [key, item] of Object.entries(value)) {
    const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (key.includes('\u0000')) return at;
    const found = findNul(item, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

async function textGuard(app: FastifyInstance): Promise<void> {
  app.addHook('preValidation', async (request) => {
    const places: [Part, unknown][] = [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ];
    for (const [part, value] of places) {
      const pointer = findNul(value, '', 0);
      if (pointer !== null) {
        // Shaped as a schema validation failure, so that every error handler (the problem
        // one, and the standards' own shapes on the issuer and OAuth routes) treats it as one.
        const err = new Error(`${part}${pointer} contains a NUL character`) as Error & {
          statusCode: number;
          validation: { instancePath: string; keyword: string; message: string; params: object }[];
          validationContext: Part;
        };
        err.statusCode = 400;
        err.validation = [
          { instancePath: pointer, keyword: 'nul', message: 'contains a NUL character', params: {} },
        ];
        err.validationContext = part;
        throw err;
      }
    }
  });
}

export default fp(textGuard, { name: 'text-guard', fastify: '5.x' });
