// JSON request bodies are parsed behind limits on nesting and on the number of values, checked
// in one pass over the text before JSON.parse builds anything: a body nested a hundred thousand
// deep overflowed the stack of whatever walked it next (a 500), and a flat array of small
// objects costs tens of bytes of heap per byte of body. Both are a 400 problem instead.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type JsonLimits, jsonOverLimits } from '../modules/openbadges/index.ts';

/** Far beyond any request this API takes (a badge credential nests about ten deep). */
export const REQUEST_JSON_LIMITS: Omit<JsonLimits, 'maxChars'> = { maxDepth: 64, maxValues: 50_000 };

export class BodyTooComplexError extends Error {
  readonly statusCode = 400;
  readonly code = 'BODY_TOO_COMPLEX';
}

async function jsonBody(app: FastifyInstance): Promise<void> {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    // Generated clients send `Content-Type: application/json` on every call that can take a
    // body, even with none to send: where the body is optional that means no body (the
    // contract's validator lets it through); everywhere else an empty body stays malformed.
    if (text.length === 0 && request.routeOptions.config.operation?.optionalBody) {
      done(null, undefined);
      return;
    }
    const over = jsonOverLimits(text, { ...REQUEST_JSON_LIMITS, maxChars: Number.POSITIVE_INFINITY });
    if (over) {
      done(new BodyTooComplexError(`The JSON body is ${over}.`), undefined);
      return;
    }
    parse(request, text, done);
  });
}

export default fp(jsonBody, { name: 'json-body', fastify: '5.x' });
