declare module 'jsonld' {
  interface CanonizeOptions {
    algorithm: 'RDFC-1.0' | 'URDNA2015';
    format: 'application/n-quads';
    documentLoader: (url: string) => Promise<{ contextUrl: null; documentUrl: string; document: unknown }>;
    safe?: boolean;
    base?: string | null;
    rdfDirection?: 'i18n-datatype';
    /** Passed to rdf-canonize; `canonicalIdMap` is filled with each input blank node's canonical label. */
    canonizeOptions?: {
      algorithm?: 'RDFC-1.0';
      messageDigestAlgorithm?: 'sha256' | 'sha384';
      canonicalIdMap?: Map<string, string>;
    };
  }
  const jsonld: { canonize(input: unknown, options: CanonizeOptions): Promise<string> };
  export default jsonld;
}
