-- CreateTable
CREATE TABLE "connect_client_origins" (
    "clientId" TEXT NOT NULL,
    "origin" TEXT NOT NULL,

    PRIMARY KEY ("clientId", "origin"),
    CONSTRAINT "connect_client_origins_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "connect_clients" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_connect_clients" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "secretHash" TEXT,
    "name" TEXT NOT NULL,
    "clientUri" TEXT NOT NULL,
    "logoUri" TEXT,
    "tosUri" TEXT,
    "policyUri" TEXT,
    "softwareId" TEXT,
    "softwareVersion" TEXT,
    "redirectUrisJson" TEXT NOT NULL,
    "contactsJson" TEXT NOT NULL DEFAULT '[]',
    "scope" TEXT NOT NULL,
    "tokenEndpointAuthMethod" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'issuer_platform',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_connect_clients" ("clientUri", "contactsJson", "createdAt", "id", "logoUri", "name", "policyUri", "redirectUrisJson", "scope", "secretHash", "softwareId", "softwareVersion", "tokenEndpointAuthMethod", "tosUri") SELECT "clientUri", "contactsJson", "createdAt", "id", "logoUri", "name", "policyUri", "redirectUrisJson", "scope", "secretHash", "softwareId", "softwareVersion", "tokenEndpointAuthMethod", "tosUri" FROM "connect_clients";
DROP TABLE "connect_clients";
ALTER TABLE "new_connect_clients" RENAME TO "connect_clients";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "connect_client_origins_origin_idx" ON "connect_client_origins"("origin");
