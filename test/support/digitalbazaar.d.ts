// The Digital Bazaar signing libraries ship no types; tests use them as an independent signer.
declare module '@digitalbazaar/ecdsa-multikey';
declare module '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
declare module '@digitalbazaar/ecdsa-sd-2023-cryptosuite';
declare module '@digitalbazaar/data-integrity';
declare module 'jsonld-signatures';
declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
declare module '@digitalbazaar/vc';
