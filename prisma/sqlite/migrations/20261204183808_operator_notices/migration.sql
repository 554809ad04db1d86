-- CreateTable
CREATE TABLE "notices" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "notice_deliveries" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "noticeId" TEXT NOT NULL,
    "earnerId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "queuedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" DATETIME,
    CONSTRAINT "notice_deliveries_noticeId_fkey" FOREIGN KEY ("noticeId") REFERENCES "notices" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "notice_deliveries_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "notices_createdAt_idx" ON "notices"("createdAt");

-- CreateIndex
CREATE INDEX "notice_deliveries_status_queuedAt_idx" ON "notice_deliveries"("status", "queuedAt");

-- CreateIndex
CREATE INDEX "notice_deliveries_earnerId_idx" ON "notice_deliveries"("earnerId");

-- CreateIndex
CREATE UNIQUE INDEX "notice_deliveries_noticeId_earnerId_key" ON "notice_deliveries"("noticeId", "earnerId");
