import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'sqlite',
  migrations: { path: 'sqlite/migrations' },
});
