import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'postgres',
  migrations: { path: 'postgres/migrations' },
});
