-- AlterTable
ALTER TABLE "connect_clients" ADD COLUMN     "suspendedAt" TIMESTAMP(3),
ADD COLUMN     "suspensionReason" TEXT;

-- AlterTable
ALTER TABLE "connect_reports" ADD COLUMN     "outcome" TEXT,
ADD COLUMN     "resolution" TEXT,
ADD COLUMN     "resolvedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "operator_actions" ADD COLUMN     "subject" TEXT;

-- CreateIndex
CREATE INDEX "connect_reports_createdAt_idx" ON "connect_reports"("createdAt");

-- CreateIndex
CREATE INDEX "operator_actions_createdAt_idx" ON "operator_actions"("createdAt");
