-- CreateTable
CREATE TABLE "holder_keys" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "earnerId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "verificationMethod" TEXT NOT NULL,
    "publicKeyMultibase" TEXT NOT NULL,
    "kekId" TEXT NOT NULL,
    "wrappedDataKey" TEXT NOT NULL,
    "sealedPrivateKey" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "holder_keys_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "holder_keys_did_key" ON "holder_keys"("did");

-- CreateIndex
CREATE INDEX "holder_keys_earnerId_createdAt_idx" ON "holder_keys"("earnerId", "createdAt");
