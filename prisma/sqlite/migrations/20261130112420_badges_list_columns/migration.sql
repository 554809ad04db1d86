-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_backpack_items" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "earnerId" TEXT NOT NULL,
    "assertionId" TEXT NOT NULL,
    "specVersion" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "acceptance" TEXT NOT NULL DEFAULT 'accepted',
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "issuerId" TEXT NOT NULL,
    "issuerName" TEXT NOT NULL,
    "issuerUrl" TEXT,
    "badgeClassId" TEXT,
    "criteriaUrl" TEXT,
    "issuedOn" DATETIME NOT NULL,
    "expiresAt" DATETIME,
    "recipientAddress" TEXT NOT NULL,
    "originalFormat" TEXT NOT NULL,
    "originalText" TEXT NOT NULL,
    "normalizedJson" TEXT NOT NULL,
    "checksJson" TEXT NOT NULL,
    "verifiedAt" DATETIME NOT NULL,
    "addedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL DEFAULT 'earner',
    "searchText" TEXT NOT NULL DEFAULT '',
    "sortName" TEXT NOT NULL DEFAULT '',
    "imageType" TEXT,
    CONSTRAINT "backpack_items_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_backpack_items" ("acceptance", "addedAt", "assertionId", "badgeClassId", "checksJson", "criteriaUrl", "description", "earnerId", "expiresAt", "id", "issuedOn", "issuerId", "issuerName", "issuerUrl", "name", "normalizedJson", "originalFormat", "originalText", "recipientAddress", "source", "specVersion", "status", "verifiedAt") SELECT "acceptance", "addedAt", "assertionId", "badgeClassId", "checksJson", "criteriaUrl", "description", "earnerId", "expiresAt", "id", "issuedOn", "issuerId", "issuerName", "issuerUrl", "name", "normalizedJson", "originalFormat", "originalText", "recipientAddress", "source", "specVersion", "status", "verifiedAt" FROM "backpack_items";
DROP TABLE "backpack_items";
ALTER TABLE "new_backpack_items" RENAME TO "backpack_items";
CREATE INDEX "backpack_items_earnerId_addedAt_idx" ON "backpack_items"("earnerId", "addedAt");
CREATE INDEX "backpack_items_earnerId_issuedOn_idx" ON "backpack_items"("earnerId", "issuedOn");
CREATE INDEX "backpack_items_verifiedAt_idx" ON "backpack_items"("verifiedAt");
CREATE UNIQUE INDEX "backpack_items_earnerId_assertionId_key" ON "backpack_items"("earnerId", "assertionId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
