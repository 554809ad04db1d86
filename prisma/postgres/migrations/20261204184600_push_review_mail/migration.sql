-- AlterTable
ALTER TABLE "earners" ADD COLUMN     "pushReviewMail" BOOLEAN NOT NULL DEFAULT true;
