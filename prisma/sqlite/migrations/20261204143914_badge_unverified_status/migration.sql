-- Columns added in place: redefining the table would drop its revision triggers.
ALTER TABLE "backpack_items" ADD COLUMN "statusReason" TEXT;
ALTER TABLE "backpack_items" ADD COLUMN "recheckAt" DATETIME;
ALTER TABLE "backpack_items" ADD COLUMN "recheckAttempts" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "backpack_items_recheckAt_idx" ON "backpack_items"("recheckAt");
