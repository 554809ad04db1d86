// One error model everywhere: every failure leaves as RFC 9457 application/problem+json with a
// stable `code`. Framework errors (validation, parsing, limits), database errors (as `db/errors.ts`
// classifies them) and unknown routes are mapped here, in one place; 5xx bodies never carry the cause.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import FindMyWay from 'find-my-way';
import { classifyDatabaseError } from '../db/errors.ts';
import {
  CATALOGUE,
  type FieldError,
  Problem,
  type ProblemBody,
  type ProblemCode,
  problemType,
} from './problems.ts';

const VALIDATION_LOCATIONS: Record<string, FieldError['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

interface AjvLikeError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function fieldErrors(validation: AjvLikeError[], context: string | undefined): FieldError[] {
  const where = VALIDATION_LOCATIONS[context ?? 'body'] ?? 'body';
  return validation.map((e) => {
    let pointer = e.instancePath ?? '';
    let message = e.message ?? 'is invalid';
    const params = e.params ?? {};
    if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      pointer = `${pointer}/${escapePointer(params.additionalProperty)}`;
      message = 'is not a known field';
    } else if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
      pointer = `${pointer}/${escapePointer(params.missingProperty)}`;
      message = 'is required';
    }
    return { in: where, pointer, message };
  });
}

export function problemBody(
  request: FastifyRequest,
  code: ProblemCode | string,
  status: number,
  title: string,
  detail?: string,
  extensions: Record<string, unknown> = {},
): ProblemBody {
  return {
    ...extensions,
    type: problemType(code),
    title,
    status,
    ...(detail ? { detail } : {}),
    instance: request.url.split('?')[0] ?? '/',
    code,
    requestId: request.id,
  };
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ProblemCode,
  detail?: string,
  extensions: Record<string, unknown> = {},
): FastifyReply {
  const entry = CATALOGUE[code];
  return reply
    .code(entry.status)
    .type('application/problem+json')
    .send(problemBody(request, code, entry.status, entry.title, detail, extensions));
}

function fromFrameworkError(err: FastifyError): { code: ProblemCode; detail?: string } | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return { code: 'body_too_large', detail: err.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return { code: 'unsupported_media_type', detail: err.message };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'FST_ERR_CTP_BODY_PARSING':
    case 'FST_PROTO_VIOLATION':
    case 'BODY_TOO_COMPLEX':
      return { code: 'malformed_body', detail: err.message };
    case 'FST_ERR_NOT_FOUND':
      return { code: 'not_found' };
    default:
      break;
  }
  // JSON.parse failures surface as SyntaxError with status 400.
  if (err instanceof SyntaxError && err.statusCode === 400) {
    return { code: 'malformed_body', detail: 'The body is not valid JSON.' };
  }
  if (err.statusCode === 429) return { code: 'rate_limited', detail: err.message };
  if (err.statusCode === 413) return { code: 'body_too_large', detail: err.message };
  if (err.statusCode === 415) return { code: 'unsupported_media_type', detail: err.message };
  if (err.statusCode === 406) return { code: 'not_acceptable', detail: err.message };
  return null;
}

/**
 * Errors the router raises before any route or hook runs (an undecodable URL, an over-long path
 * parameter); given to Fastify as its `frameworkErrors` option so that they are problems too.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendProblem(request, reply, 'uri_too_long', 'A path segment is longer than any identifier.');
  } else {
    sendProblem(request, reply, 'malformed_url', 'The URL is not validly percent-encoded.');
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  // A router of our own that knows every registered path, so that the 404 handler can tell
  // "no such resource" from "no such method on this resource" (405 with Allow).
  const known = FindMyWay({ ignoreTrailingSlash: false });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (!(METHODS as readonly string[]).includes(method)) continue;
      try {
        known.on(method as (typeof METHODS)[number], route.url, () => undefined);
      } catch {
        // The same method and path registered twice (HEAD for GET): nothing to add.
      }
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((m) => m !== request.method && known.find(m, path));
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(request, reply, 'method_not_allowed', `${request.method} is not allowed here.`);
    }
    return sendProblem(request, reply, 'not_found', `No resource at ${path}.`);
  });

  app.setErrorHandler((err: FastifyError | Problem, request, reply) => {
    if (err instanceof Problem) {
      for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      return reply
        .code(err.status)
        .type('application/problem+json')
        .send(problemBody(request, err.code, err.status, err.title, err.detail, err.extensions));
    }
    if (err.validation) {
      return sendProblem(request, reply, 'validation_failed', 'One or more fields are invalid; see errors.', {
        errors: fieldErrors(err.validation as AjvLikeError[], err.validationContext),
      });
    }
    const framework = fromFrameworkError(err);
    if (framework) {
      if (framework.code === 'rate_limited' && !reply.hasHeader('retry-after')) {
        reply.header('retry-after', '60');
      }
      return sendProblem(request, reply, framework.code, framework.detail);
    }
    const dbCode = classifyDatabaseError(err);
    if (dbCode) {
      if (dbCode === 'database_unavailable' || dbCode === 'storage_full') {
        request.log.warn({ err: { message: err.message, code: err.code } }, dbCode);
        reply.header('retry-after', '5');
      }
      return sendProblem(request, reply, dbCode);
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // A client error from a plugin we do not map specifically: keep its status, not its text.
      request.log.info({ err }, 'client error');
      const byStatus = (Object.keys(CATALOGUE) as ProblemCode[]).find(
        (c) => CATALOGUE[c].status === err.statusCode,
      );
      return sendProblem(request, reply, byStatus ?? 'malformed_body');
    }
    request.log.error({ err }, 'unhandled error');
    return sendProblem(
      request,
      reply,
      'internal_error',
      'An unexpected error occurred; the request id identifies it in the logs.',
    );
  });
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x' });
