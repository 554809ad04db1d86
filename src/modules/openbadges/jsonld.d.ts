declare module 'jsonld' {
  interface CanonizeOptions {
    algorithm: 'RDFC-1.0' | 'URDNA2015';
    format: 'application/n-quads';
    documentLoader: (url: string) => Promise<{ contextUrl: null; documentUrl: string; document: unknown }>;
    safe?: boolean;
  }
  const jsonld: { canonize(input: unknown, options: CanonizeOptions): Promise<string> };
  export default jsonld;
}
