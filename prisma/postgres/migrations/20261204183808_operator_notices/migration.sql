-- CreateTable
CREATE TABLE "notices" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notice_deliveries" (
    "id" TEXT NOT NULL,
    "noticeId" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "queuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" TIMESTAMP(3),

    CONSTRAINT "notice_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "notices_createdAt_idx" ON "notices"("createdAt");

-- CreateIndex
CREATE INDEX "notice_deliveries_status_queuedAt_idx" ON "notice_deliveries"("status", "queuedAt");

-- CreateIndex
CREATE INDEX "notice_deliveries_earnerId_idx" ON "notice_deliveries"("earnerId");

-- CreateIndex
CREATE UNIQUE INDEX "notice_deliveries_noticeId_earnerId_key" ON "notice_deliveries"("noticeId", "earnerId");

-- AddForeignKey
ALTER TABLE "notice_deliveries" ADD CONSTRAINT "notice_deliveries_noticeId_fkey" FOREIGN KEY ("noticeId") REFERENCES "notices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notice_deliveries" ADD CONSTRAINT "notice_deliveries_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners"("id") ON DELETE CASCADE ON UPDATE CASCADE;
