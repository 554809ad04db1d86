-- DropIndex
DROP INDEX "backpack_items_earnerId_assertionId_key";

-- CreateIndex
CREATE UNIQUE INDEX "backpack_items_earnerId_issuerId_assertionId_key" ON "backpack_items"("earnerId", "issuerId", "assertionId");
