-- AlterTable
-- Added in place rather than by redefining the table, which would drop the triggers on "earners".
ALTER TABLE "earners" ADD COLUMN "pushReviewMail" BOOLEAN NOT NULL DEFAULT true;
