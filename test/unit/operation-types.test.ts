import { describe, expect, it } from 'vitest';
import { loadContract } from '../../src/http/contract.ts';
import { QUERY_DEFAULTS } from '../../src/http/operations.ts';

interface Parameter {
  in?: string;
  name?: string;
  required?: boolean;
  schema?: { default?: unknown };
  $ref?: string;
}

/** Query parameters with a `default`, by operationId, as openapi.yaml declares them. */
function contractDefaults(): Record<string, string[]> {
  const { document } = loadContract();
  const resolve = (p: Parameter): Parameter => {
    if (!p.$ref) return p;
    let node: unknown = document;
    for (const key of p.$ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[key];
    return node as Parameter;
  };
  const found: Record<string, string[]> = {};
  const paths = document.paths as Record<
    string,
    Record<string, { operationId?: string; parameters?: Parameter[] }>
  >;
  for (const item of Object.values(paths)) {
    const shared = (item.parameters ?? []) as unknown as Parameter[];
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters' || !op.operationId) continue;
      const names = [...shared, ...(op.parameters ?? [])]
        .map(resolve)
        .filter((p) => p.in === 'query' && p.schema?.default !== undefined)
        .map((p) => p.name as string);
      if (names.length > 0) found[op.operationId] = names.sort();
    }
  }
  return found;
}

describe('handler types', () => {
  it('treat as present exactly the query parameters that the contract gives a default', () => {
    const declared = Object.fromEntries(
      Object.entries(QUERY_DEFAULTS).map(([op, names]) => [op, [...names].sort()]),
    );
    expect(declared).toEqual(contractDefaults());
  });
});
