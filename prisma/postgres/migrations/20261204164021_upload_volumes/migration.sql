-- CreateTable
CREATE TABLE "upload_volumes" (
    "id" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "upload_volumes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "upload_volumes_earnerId_createdAt_idx" ON "upload_volumes"("earnerId", "createdAt");

-- AddForeignKey
ALTER TABLE "upload_volumes" ADD CONSTRAINT "upload_volumes_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners"("id") ON DELETE CASCADE ON UPDATE CASCADE;
