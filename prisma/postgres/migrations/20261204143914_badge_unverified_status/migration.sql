-- AlterTable
ALTER TABLE "backpack_items" ADD COLUMN     "recheckAt" TIMESTAMP(3),
ADD COLUMN     "recheckAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "statusReason" TEXT;

-- CreateIndex
CREATE INDEX "backpack_items_recheckAt_idx" ON "backpack_items"("recheckAt");
