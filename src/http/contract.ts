// Contract-first routing: openapi.yaml is read once, and every route is registered from its
// operations (fastify-openapi-glue), so request validation and response serialization use the
// document's own schemas. Handlers are looked up by operationId; a missing handler, or a
// handler for no operation, stops the app from building.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchema, RouteOptions, RouteShorthandOptions } from 'fastify';
import openapiGlue from 'fastify-openapi-glue';
import { parse as parseYaml } from 'yaml';
import type { components } from '../generated/api.ts';
import type { OperationHandlers } from './operations.ts';

export const CONTRACT_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

export type SecurityRequirement = Record<string, string[]>;

export interface OperationInfo {
  operationId: string;
  method: string;
  path: string;
  security: SecurityRequirement[];
  tags: string[];
  /** `x-fresh-session`: a session must have signed in recently (tokens never qualify). */
  freshSession: boolean;
  /** The operation takes a body that may be left out. */
  optionalBody: boolean;
}

export type { OperationHandler, OperationHandlers } from './operations.ts';

interface OpenApiOperation {
  operationId?: string;
  security?: SecurityRequirement[];
  tags?: string[];
  'x-fresh-session'?: boolean;
  requestBody?: { required?: boolean };
}

export interface Contract {
  document: Record<string, unknown>;
  yaml: string;
  json: string;
  operations: Map<string, OperationInfo>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

let cached: Contract | undefined;

export function loadContract(path = CONTRACT_PATH): Contract {
  if (path === CONTRACT_PATH && cached) return cached;
  const yaml = readFileSync(path, 'utf8');
  const document = parseYaml(yaml) as Record<string, unknown>;
  const globalSecurity = (document.security as SecurityRequirement[] | undefined) ?? [];
  const operations = new Map<string, OperationInfo>();
  const paths = (document.paths ?? {}) as Record<string, Record<string, OpenApiOperation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      operations.set(op.operationId, {
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        security: op.security ?? globalSecurity,
        tags: op.tags ?? [],
        freshSession: op['x-fresh-session'] === true,
        optionalBody: op.requestBody !== undefined && op.requestBody.required !== true,
      });
    }
  }
  const contract = { document, yaml, json: JSON.stringify(document), operations };
  if (path === CONTRACT_PATH) cached = contract;
  return contract;
}

/**
 * The values of an enum schema of the contract, typed as the generated types name them: code
 * that needs them at run time reads them here instead of keeping a copy.
 */
export function contractEnum<Name extends keyof components['schemas']>(
  name: Name,
  contract = loadContract(),
): readonly components['schemas'][Name][] {
  const schemas = (contract.document.components as { schemas?: Record<string, { enum?: unknown[] }> })
    ?.schemas;
  const values = schemas?.[name]?.enum;
  if (!values) throw new Error(`openapi.yaml has no enum schema ${name}`);
  return values as components['schemas'][Name][];
}

/**
 * The contract as this deployment serves it (at /openapi.json, /openapi.yaml and /docs): its
 * `servers` name PUBLIC_URL, so that generated clients and "Try it out" call this service.
 * Routing keeps the document as written.
 */
export function servedContract(contract: Contract, publicUrl: URL): Contract {
  const url = publicUrl.toString().replace(/\/$/, '');
  const servers = [{ url, description: 'This service.' }];
  const document = { ...contract.document, servers };
  const yaml = contract.yaml.replace(
    /^servers:\n(?: {2}.*\n)+/m,
    `servers:\n  - url: ${JSON.stringify(url)}\n    description: This service.\n`,
  );
  return { ...contract, document, yaml, json: JSON.stringify(document) };
}

/** Operations in the contract with no handler, and handlers with no operation. */
export function contractDrift(
  contract: Contract,
  // Any object: the document read at run time may differ from the one the types came from.
  handlers: object,
): { unhandled: string[]; unknown: string[] } {
  return {
    unhandled: [...contract.operations.keys()].filter((id) => !(id in handlers)).sort(),
    unknown: Object.keys(handlers)
      .filter((id) => !contract.operations.has(id))
      .sort(),
  };
}

// ajv-formats is CommonJS with a default export that NodeNext sees one level down.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: AjvOptions): Ajv {
  const ajv = new Ajv({
    // Unknown fields are an error the client must hear about, never silently dropped.
    removeAdditional: false,
    useDefaults: true,
    allErrors: true,
    strict: false,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

/**
 * A multipart file part reaches validation as a Buffer, where the contract (for the clients
 * generated from it) says `type: string, format: binary`: such a schema is checked as a Buffer.
 */
function binaryAsBuffer(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(binaryAsBuffer);
  if (schema === null || typeof schema !== 'object') return schema;
  const node = schema as Record<string, unknown>;
  if (node.type === 'string' && node.format === 'binary') {
    const { type: _type, format: _format, contentMediaType: _media, ...rest } = node;
    return { ...rest, buffer: true };
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, binaryAsBuffer(value)]));
}

/**
 * Operations registered in a plugin scope of their own, so that what `setup` adds there (a
 * body parser for forms or multipart) reaches those routes and no other.
 */
export interface ContractScope {
  operationIds: string[];
  setup: (scope: FastifyInstance) => Promise<void>;
}

export interface ContractRoutesOptions {
  contract: Contract;
  handlers: OperationHandlers;
  scopes?: ContractScope[];
}

/** A copy of the document keeping only the operations `keep` accepts (paths left empty go). */
function filterOperations(
  document: Record<string, unknown>,
  keep: (operationId: string) => boolean,
): Record<string, unknown> {
  const copy = structuredClone(document);
  const paths = (copy.paths ?? {}) as Record<string, Record<string, OpenApiOperation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op?.operationId && !keep(op.operationId)) delete item[method];
    }
    if (!HTTP_METHODS.some((m) => item[m])) delete paths[path];
  }
  return copy;
}

/**
 * Registers every operation of the contract. Query strings, paths and headers are coerced
 * from strings (that is their nature); JSON bodies are not: `"13"` is not a number.
 */
export async function contractRoutes(app: FastifyInstance, opts: ContractRoutesOptions): Promise<void> {
  const { contract, handlers } = opts;
  const drift = contractDrift(contract, handlers);
  if (drift.unhandled.length || drift.unknown.length) {
    throw new Error(
      `openapi.yaml and the handlers disagree: operations without handler [${drift.unhandled.join(', ')}], handlers without operation [${drift.unknown.join(', ')}]`,
    );
  }
  const bodyAjv = makeAjv({ coerceTypes: false });
  bodyAjv.addKeyword({
    keyword: 'buffer',
    schemaType: 'boolean',
    validate: (_schema: boolean, data: unknown) => Buffer.isBuffer(data),
    errors: false,
  });
  const partsAjv = makeAjv({ coerceTypes: 'array' });
  const optionalBodies = new Set(
    [...contract.operations.values()]
      .filter((op) => op.optionalBody)
      .map((op) => `${op.method} ${op.path.replace(/\{([^}]+)\}/g, ':$1')}`),
  );
  app.setValidatorCompiler(({ schema, httpPart, contentType, method, url }) => {
    if (httpPart !== 'body') return partsAjv.compile(schema as Record<string, unknown>);
    const multipart = contentType?.startsWith('multipart/form-data') === true;
    const validate = bodyAjv.compile(
      (multipart ? binaryAsBuffer(schema) : schema) as Record<string, unknown>,
    );
    if (!optionalBodies.has(`${method} ${url}`)) return validate;
    // Fastify validates a body left out as null: where the body is optional, that is no body.
    const check = (data: unknown) => data === null || data === undefined || validate(data);
    return Object.defineProperty(check, 'errors', { get: () => validate.errors });
  });
  app.addHook('onRoute', (route) => {
    const schema = route.schema as (FastifySchema & { querystring?: Record<string, unknown> }) | undefined;
    if (
      schema?.querystring &&
      schema.querystring.type === 'object' &&
      !('additionalProperties' in schema.querystring)
    ) {
      schema.querystring.additionalProperties = route.config?.ignoreUnknownQuery === true;
    }
  });
  const operationResolver = (operationId: string): RouteOptions => {
    // The operationId comes from the same document the handler types come from.
    const handler = handlers[operationId as keyof OperationHandlers];
    const info = contract.operations.get(operationId);
    if (!handler || !info) throw new Error(`no handler for ${operationId}`);
    // Each handler is typed against its own operation; the router sees them all alike.
    const options: RouteShorthandOptions & { handler: unknown } =
      typeof handler === 'function' ? { handler } : handler;
    return {
      ...options,
      config: { ...(options.config as object | undefined), operation: info },
    } as RouteOptions;
  };
  const scopes = opts.scopes ?? [];
  const scoped = new Set(scopes.flatMap((s) => s.operationIds));
  await app.register(openapiGlue, {
    specification: filterOperations(contract.document, (id) => !scoped.has(id)),
    operationResolver,
  });
  for (const scope of scopes) {
    const ids = new Set(scope.operationIds);
    await app.register(async (child) => {
      await scope.setup(child);
      await child.register(openapiGlue, {
        specification: filterOperations(contract.document, (id) => ids.has(id)),
        operationResolver,
      });
    });
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    operation?: OperationInfo;
    /** Query parameters the contract does not name are ignored here instead of refused. */
    ignoreUnknownQuery?: boolean;
  }
}
