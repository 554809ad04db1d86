-- CreateTable
CREATE TABLE "holder_keys" (
    "id" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "verificationMethod" TEXT NOT NULL,
    "publicKeyMultibase" TEXT NOT NULL,
    "kekId" TEXT NOT NULL,
    "wrappedDataKey" TEXT NOT NULL,
    "sealedPrivateKey" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "holder_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "holder_keys_did_key" ON "holder_keys"("did");

-- CreateIndex
CREATE INDEX "holder_keys_earnerId_createdAt_idx" ON "holder_keys"("earnerId", "createdAt");

-- AddForeignKey
ALTER TABLE "holder_keys" ADD CONSTRAINT "holder_keys_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners"("id") ON DELETE CASCADE ON UPDATE CASCADE;
