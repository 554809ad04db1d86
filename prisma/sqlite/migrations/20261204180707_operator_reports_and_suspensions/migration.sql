-- AlterTable
ALTER TABLE "connect_clients" ADD COLUMN "suspendedAt" DATETIME;
ALTER TABLE "connect_clients" ADD COLUMN "suspensionReason" TEXT;

-- AlterTable
ALTER TABLE "connect_reports" ADD COLUMN "outcome" TEXT;
ALTER TABLE "connect_reports" ADD COLUMN "resolution" TEXT;
ALTER TABLE "connect_reports" ADD COLUMN "resolvedAt" DATETIME;

-- AlterTable
ALTER TABLE "operator_actions" ADD COLUMN "subject" TEXT;

-- CreateIndex
CREATE INDEX "connect_reports_createdAt_idx" ON "connect_reports"("createdAt");

-- CreateIndex
CREATE INDEX "operator_actions_createdAt_idx" ON "operator_actions"("createdAt");
