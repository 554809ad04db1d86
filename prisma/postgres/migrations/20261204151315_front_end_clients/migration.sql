-- AlterTable
ALTER TABLE "connect_clients" ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'issuer_platform',
ALTER COLUMN "softwareId" DROP NOT NULL,
ALTER COLUMN "softwareVersion" DROP NOT NULL;

-- CreateTable
CREATE TABLE "connect_client_origins" (
    "clientId" TEXT NOT NULL,
    "origin" TEXT NOT NULL,

    CONSTRAINT "connect_client_origins_pkey" PRIMARY KEY ("clientId","origin")
);

-- CreateIndex
CREATE INDEX "connect_client_origins_origin_idx" ON "connect_client_origins"("origin");

-- AddForeignKey
ALTER TABLE "connect_client_origins" ADD CONSTRAINT "connect_client_origins_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "connect_clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;
