-- CreateTable
CREATE TABLE "earner_revisions" (
    "earnerId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "earner_revisions_pkey" PRIMARY KEY ("earnerId")
);

-- AddForeignKey
ALTER TABLE "earner_revisions" ADD CONSTRAINT "earner_revisions_earnerId_fkey" FOREIGN KEY ("earnerId") REFERENCES "earners"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every earner has a revision row, created with the earner.
INSERT INTO "earner_revisions" ("earnerId", "revision") SELECT "id", 0 FROM "earners";

CREATE FUNCTION "earner_revision_create"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "earner_revisions" ("earnerId", "revision") VALUES (NEW."id", 0);
  RETURN NULL;
END $$;
CREATE TRIGGER "earners_revision_create" AFTER INSERT ON "earners"
  FOR EACH ROW EXECUTE FUNCTION "earner_revision_create"();

-- Anything a list or a public page shows moves the earner's revision.
CREATE FUNCTION "earner_revision_bump"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = NEW."earnerId";
  END IF;
  IF TG_OP <> 'INSERT' THEN
    UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = OLD."earnerId";
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION "earner_revision_bump_by_group"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    UPDATE "earner_revisions" SET "revision" = "revision" + 1
    WHERE "earnerId" = (SELECT "earnerId" FROM "groups" WHERE "id" = NEW."groupId");
  END IF;
  IF TG_OP <> 'INSERT' THEN
    UPDATE "earner_revisions" SET "revision" = "revision" + 1
    WHERE "earnerId" = (SELECT "earnerId" FROM "groups" WHERE "id" = OLD."groupId");
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "backpack_items_revision" AFTER INSERT OR UPDATE OR DELETE ON "backpack_items"
  FOR EACH ROW EXECUTE FUNCTION "earner_revision_bump"();
CREATE TRIGGER "groups_revision" AFTER INSERT OR UPDATE OR DELETE ON "groups"
  FOR EACH ROW EXECUTE FUNCTION "earner_revision_bump"();
CREATE TRIGGER "share_links_revision" AFTER INSERT OR DELETE ON "share_links"
  FOR EACH ROW EXECUTE FUNCTION "earner_revision_bump"();
CREATE TRIGGER "group_members_revision" AFTER INSERT OR UPDATE OR DELETE ON "group_members"
  FOR EACH ROW EXECUTE FUNCTION "earner_revision_bump_by_group"();
