-- AlterTable
ALTER TABLE "connect_clients" ADD COLUMN "registeredBy" TEXT;

-- CreateIndex
CREATE INDEX "connect_clients_registeredBy_createdAt_idx" ON "connect_clients"("registeredBy", "createdAt");
