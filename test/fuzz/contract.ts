// The contract as the fuzzer needs it: operations with their parameters, bodies and documented
// responses, and an ajv instance that validates a response body against its documented schema.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { loadContract } from '../../src/http/contract.ts';
import type { Schema } from './schema-values.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface FuzzOperation {
  operationId: string;
  method: string;
  path: string;
  pathParams: { name: string; schema: Schema }[];
  queryParams: { name: string; schema: Schema; required: boolean }[];
  body: { contentType: string; schema: Schema; required: boolean } | null;
  authenticated: boolean;
  /** status -> content type -> schema pointer (null: no body schema) */
  responses: Map<string, Map<string, string | null>>;
}

function unescapePointer(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function loadFuzzContract() {
  const doc = loadContract().document;
  const pointer = (ref: string): unknown => {
    if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`);
    let node: unknown = doc;
    for (const token of ref.slice(2).split('/'))
      node = (node as Record<string, unknown>)[unescapePointer(token)];
    return node;
  };
  const deref = <T>(node: T): T => {
    let current: unknown = node;
    for (let i = 0; i < 20 && current && typeof current === 'object' && '$ref' in current; i++) {
      current = pointer((current as { $ref: string }).$ref);
    }
    return current as T;
  };

  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(doc as object, 'contract');
  const validators = new Map<string, ValidateFunction>();
  const validate = (schemaPointer: string, body: unknown): string | null => {
    let fn = validators.get(schemaPointer);
    if (!fn) {
      fn = ajv.compile({ $ref: `contract${schemaPointer}` });
      validators.set(schemaPointer, fn);
    }
    return fn(body) ? null : ajv.errorsText(fn.errors);
  };

  const operations: FuzzOperation[] = [];
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  const globalSecurity = (doc.security as Record<string, string[]>[] | undefined) ?? [];
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = [
        ...((item.parameters as unknown as unknown[]) ?? []),
        ...((op.parameters as unknown[]) ?? []),
      ].map((p) => deref(p) as { name: string; in: string; required?: boolean; schema?: Schema });
      const requestBody = op.requestBody ? deref(op.requestBody as Record<string, unknown>) : null;
      let body: FuzzOperation['body'] = null;
      if (requestBody) {
        const content = requestBody.content as Record<string, { schema?: Schema }>;
        const contentType = Object.keys(content)[0] ?? 'application/json';
        body = {
          contentType,
          schema: content[contentType]?.schema ?? {},
          required: requestBody.required === true,
        };
      }
      const responses = new Map<string, Map<string, string | null>>();
      const opPointer = `#/paths/${escapePointer(path)}/${method}`;
      for (const [status, rawResponse] of Object.entries(op.responses as Record<string, unknown>)) {
        let responsePointer = `${opPointer}/responses/${escapePointer(status)}`;
        let response = rawResponse as Record<string, unknown>;
        while (typeof response.$ref === 'string') {
          responsePointer = response.$ref;
          response = pointer(response.$ref) as Record<string, unknown>;
        }
        const byType = new Map<string, string | null>();
        for (const [type, media] of Object.entries(
          (response.content as Record<string, { schema?: unknown }>) ?? {},
        )) {
          byType.set(type, media.schema ? `${responsePointer}/content/${escapePointer(type)}/schema` : null);
        }
        responses.set(status, byType);
      }
      const security = (op.security as Record<string, string[]>[] | undefined) ?? globalSecurity;
      operations.push({
        operationId: String(op.operationId),
        method: method.toUpperCase(),
        path,
        pathParams: params
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true })),
        body,
        authenticated: security.some((alt) => Object.keys(alt).length > 0),
        responses,
      });
    }
  }
  const resolveSchema = (schema: Schema): Schema => deref(schema);
  return { operations, validate, resolveSchema };
}
