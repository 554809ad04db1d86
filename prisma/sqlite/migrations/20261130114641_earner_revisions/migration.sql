-- CreateTable
CREATE TABLE "earner_revisions" (
    "earnerId" TEXT NOT NULL PRIMARY KEY,
    "revision" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "earner_revisions_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Every earner has a revision row, created with the earner.
INSERT INTO "earner_revisions" ("earnerId", "revision") SELECT "id", 0 FROM "earners";

CREATE TRIGGER "earners_revision_create" AFTER INSERT ON "earners"
BEGIN
  INSERT INTO "earner_revisions" ("earnerId", "revision") VALUES (NEW."id", 0);
END;

-- Anything a list or a public page shows moves the earner's revision.
CREATE TRIGGER "backpack_items_revision_insert" AFTER INSERT ON "backpack_items"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = NEW."earnerId";
END;
CREATE TRIGGER "backpack_items_revision_update" AFTER UPDATE ON "backpack_items"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" IN (OLD."earnerId", NEW."earnerId");
END;
CREATE TRIGGER "backpack_items_revision_delete" AFTER DELETE ON "backpack_items"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = OLD."earnerId";
END;
CREATE TRIGGER "groups_revision_insert" AFTER INSERT ON "groups"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = NEW."earnerId";
END;
CREATE TRIGGER "groups_revision_update" AFTER UPDATE ON "groups"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" IN (OLD."earnerId", NEW."earnerId");
END;
CREATE TRIGGER "groups_revision_delete" AFTER DELETE ON "groups"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = OLD."earnerId";
END;
CREATE TRIGGER "group_members_revision_insert" AFTER INSERT ON "group_members"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1
  WHERE "earnerId" = (SELECT "earnerId" FROM "groups" WHERE "id" = NEW."groupId");
END;
CREATE TRIGGER "group_members_revision_update" AFTER UPDATE ON "group_members"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1
  WHERE "earnerId" IN (SELECT "earnerId" FROM "groups" WHERE "id" IN (OLD."groupId", NEW."groupId"));
END;
CREATE TRIGGER "group_members_revision_delete" AFTER DELETE ON "group_members"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1
  WHERE "earnerId" = (SELECT "earnerId" FROM "groups" WHERE "id" = OLD."groupId");
END;
CREATE TRIGGER "share_links_revision_insert" AFTER INSERT ON "share_links"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = NEW."earnerId";
END;
CREATE TRIGGER "share_links_revision_delete" AFTER DELETE ON "share_links"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = OLD."earnerId";
END;
