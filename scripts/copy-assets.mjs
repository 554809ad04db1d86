// The compiled server reads the contract and the migrations relative to its own files, so the
// build puts them beside dist/src as they sit beside src/ in the repository.
import { cpSync } from 'node:fs';

cpSync('openapi.yaml', 'dist/openapi.yaml');
cpSync('prisma', 'dist/prisma', { recursive: true, verbatimSymlinks: true });
