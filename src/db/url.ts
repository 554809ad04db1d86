// Which database a URL names: `file:` for the embedded SQLite (a path, resolved from the
// working directory), `postgres://` or `postgresql://` for PostgreSQL.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Provider = 'sqlite' | 'postgres';

export type DatabaseTarget = { provider: 'sqlite'; file: string } | { provider: 'postgres'; url: string };

export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    return { provider: 'postgres', url: trimmed };
  }
  if (trimmed.startsWith('file:')) {
    let file: string;
    if (trimmed.startsWith('file://')) {
      file = fileURLToPath(trimmed.replace(/\?.*$/, ''));
    } else {
      // Prisma's SQLite URLs may carry connection parameters after `?`; they name no file.
      file = trimmed.slice('file:'.length).replace(/\?.*$/, '');
    }
    if (file === '') {
      throw new Error(
        `Database URL "${url}" has no file path: expected file:<path>, e.g. file:./data/backpack.db`,
      );
    }
    return { provider: 'sqlite', file: path.resolve(process.cwd(), file) };
  }
  throw new Error(
    `Unsupported database URL "${url}": expected file:<path> for SQLite or postgres://… / postgresql://… for PostgreSQL`,
  );
}
