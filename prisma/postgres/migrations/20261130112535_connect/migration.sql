-- CreateTable
CREATE TABLE "connect_clients" (
    "id" TEXT NOT NULL,
    "secretHash" TEXT,
    "name" TEXT NOT NULL,
    "clientUri" TEXT NOT NULL,
    "logoUri" TEXT,
    "tosUri" TEXT,
    "policyUri" TEXT,
    "softwareId" TEXT NOT NULL,
    "softwareVersion" TEXT NOT NULL,
    "redirectUrisJson" TEXT NOT NULL,
    "contactsJson" TEXT NOT NULL DEFAULT '[]',
    "scope" TEXT NOT NULL,
    "tokenEndpointAuthMethod" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connect_clients_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connect_consent_requests" (
    "id" TEXT NOT NULL,
    "csrfHash" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "redirectUri" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "state" TEXT,
    "codeChallenge" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connect_consent_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connect_grants" (
    "id" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastUsedAt" TIMESTAMP(3),

    CONSTRAINT "connect_grants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connect_auth_codes" (
    "id" TEXT NOT NULL,
    "codeHash" TEXT NOT NULL,
    "grantId" TEXT NOT NULL,
    "redirectUri" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "codeChallenge" TEXT NOT NULL,
    "familyId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connect_auth_codes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connect_tokens" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "grantId" TEXT NOT NULL,
    "familyId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "rotatedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connect_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connect_reports" (
    "id" TEXT NOT NULL,
    "earnerId" TEXT,
    "clientId" TEXT NOT NULL,
    "issuerId" TEXT NOT NULL,
    "badgeName" TEXT NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connect_reports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "connect_consent_requests_earnerId_idx" ON "connect_consent_requests"("earnerId");

-- CreateIndex
CREATE INDEX "connect_consent_requests_expiresAt_idx" ON "connect_consent_requests"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "connect_grants_earnerId_clientId_key" ON "connect_grants"("earnerId", "clientId");

-- CreateIndex
CREATE UNIQUE INDEX "connect_auth_codes_codeHash_key" ON "connect_auth_codes"("codeHash");

-- CreateIndex
CREATE INDEX "connect_auth_codes_grantId_idx" ON "connect_auth_codes"("grantId");

-- CreateIndex
CREATE UNIQUE INDEX "connect_tokens_tokenHash_key" ON "connect_tokens"("tokenHash");

-- CreateIndex
CREATE INDEX "connect_tokens_grantId_idx" ON "connect_tokens"("grantId");

-- CreateIndex
CREATE INDEX "connect_tokens_familyId_idx" ON "connect_tokens"("familyId");

-- CreateIndex
CREATE INDEX "connect_tokens_expiresAt_idx" ON "connect_tokens"("expiresAt");

-- CreateIndex
CREATE INDEX "connect_reports_clientId_idx" ON "connect_reports"("clientId");

-- CreateIndex
CREATE INDEX "connect_reports_earnerId_idx" ON "connect_reports"("earnerId");

-- AddForeignKey
ALTER TABLE "connect_consent_requests" ADD CONSTRAINT "connect_consent_requests_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_consent_requests" ADD CONSTRAINT "connect_consent_requests_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "connect_clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_grants" ADD CONSTRAINT "connect_grants_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_grants" ADD CONSTRAINT "connect_grants_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "connect_clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_auth_codes" ADD CONSTRAINT "connect_auth_codes_grantId_fkey" FOREIGN KEY ("grantId") REFERENCES "connect_grants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_tokens" ADD CONSTRAINT "connect_tokens_grantId_fkey" FOREIGN KEY ("grantId") REFERENCES "connect_grants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_reports" ADD CONSTRAINT "connect_reports_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connect_reports" ADD CONSTRAINT "connect_reports_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "connect_clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;
