-- CreateTable
CREATE TABLE "earners" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "displayName" TEXT,
    "handle" TEXT,
    "pushPolicy" TEXT NOT NULL DEFAULT 'hold',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "email_addresses" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "earnerId" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "verifiedAddress" TEXT,
    "verifiedAt" DATETIME,
    "isPrimary" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "email_addresses_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tokenHash" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "authenticatedAt" DATETIME NOT NULL,
    "method" TEXT NOT NULL,
    "userAgent" TEXT,
    CONSTRAINT "sessions_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "sign_in_codes" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "codeHash" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "earnerId" TEXT,
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sign_in_codes_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "access_tokens" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tokenHash" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "expiresAt" DATETIME,
    CONSTRAINT "access_tokens_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "operator_actions" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "earnerId" TEXT,
    "action" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "operator_actions_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "backpack_items" (
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
    CONSTRAINT "backpack_items_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "badge_images" (
    "itemId" TEXT NOT NULL PRIMARY KEY,
    "contentType" TEXT NOT NULL,
    "bytes" BLOB NOT NULL,
    "sha256" TEXT NOT NULL,
    CONSTRAINT "badge_images_itemId_fkey" FOREIGN KEY ("itemId") REFERENCES "backpack_items" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "groups" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "earnerId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "groups_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "group_members" (
    "groupId" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,

    PRIMARY KEY ("groupId", "itemId"),
    CONSTRAINT "group_members_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "group_members_itemId_fkey" FOREIGN KEY ("itemId") REFERENCES "backpack_items" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "share_links" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "groupId" TEXT,
    "itemId" TEXT,
    "salt" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "share_links_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "share_links_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "share_links_itemId_fkey" FOREIGN KEY ("itemId") REFERENCES "backpack_items" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "earners_handle_key" ON "earners"("handle");

-- CreateIndex
CREATE UNIQUE INDEX "email_addresses_verifiedAddress_key" ON "email_addresses"("verifiedAddress");

-- CreateIndex
CREATE INDEX "email_addresses_address_idx" ON "email_addresses"("address");

-- CreateIndex
CREATE UNIQUE INDEX "email_addresses_earnerId_address_key" ON "email_addresses"("earnerId", "address");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_tokenHash_key" ON "sessions"("tokenHash");

-- CreateIndex
CREATE INDEX "sessions_earnerId_idx" ON "sessions"("earnerId");

-- CreateIndex
CREATE INDEX "sessions_expiresAt_idx" ON "sessions"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "sign_in_codes_codeHash_key" ON "sign_in_codes"("codeHash");

-- CreateIndex
CREATE INDEX "sign_in_codes_address_idx" ON "sign_in_codes"("address");

-- CreateIndex
CREATE INDEX "sign_in_codes_expiresAt_idx" ON "sign_in_codes"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "access_tokens_tokenHash_key" ON "access_tokens"("tokenHash");

-- CreateIndex
CREATE INDEX "access_tokens_earnerId_idx" ON "access_tokens"("earnerId");

-- CreateIndex
CREATE INDEX "operator_actions_earnerId_idx" ON "operator_actions"("earnerId");

-- CreateIndex
CREATE INDEX "backpack_items_earnerId_addedAt_idx" ON "backpack_items"("earnerId", "addedAt");

-- CreateIndex
CREATE INDEX "backpack_items_earnerId_issuedOn_idx" ON "backpack_items"("earnerId", "issuedOn");

-- CreateIndex
CREATE INDEX "backpack_items_verifiedAt_idx" ON "backpack_items"("verifiedAt");

-- CreateIndex
CREATE UNIQUE INDEX "backpack_items_earnerId_assertionId_key" ON "backpack_items"("earnerId", "assertionId");

-- CreateIndex
CREATE INDEX "groups_earnerId_idx" ON "groups"("earnerId");

-- CreateIndex
CREATE INDEX "group_members_itemId_idx" ON "group_members"("itemId");

-- CreateIndex
CREATE UNIQUE INDEX "share_links_token_key" ON "share_links"("token");

-- CreateIndex
CREATE INDEX "share_links_earnerId_idx" ON "share_links"("earnerId");
