-- AlterTable
ALTER TABLE "sign_in_codes" ADD COLUMN     "requester" TEXT;

-- CreateTable
CREATE TABLE "used_id_tokens" (
    "id" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "used_id_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "used_id_tokens_expiresAt_idx" ON "used_id_tokens"("expiresAt");

-- CreateIndex
CREATE INDEX "sign_in_codes_requester_idx" ON "sign_in_codes"("requester");
