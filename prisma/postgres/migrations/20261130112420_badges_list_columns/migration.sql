-- AlterTable
ALTER TABLE "backpack_items" ADD COLUMN     "imageType" TEXT,
ADD COLUMN     "searchText" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "sortName" TEXT NOT NULL DEFAULT '';
