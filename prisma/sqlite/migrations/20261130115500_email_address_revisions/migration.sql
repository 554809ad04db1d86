-- Public pages hide every address of the earner: a change to those addresses moves the
-- earner's revision too, so that pages rendered before the change are not served after it.
CREATE TRIGGER "email_addresses_revision_insert" AFTER INSERT ON "email_addresses"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = NEW."earnerId";
END;
CREATE TRIGGER "email_addresses_revision_update" AFTER UPDATE ON "email_addresses"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" IN (OLD."earnerId", NEW."earnerId");
END;
CREATE TRIGGER "email_addresses_revision_delete" AFTER DELETE ON "email_addresses"
BEGIN
  UPDATE "earner_revisions" SET "revision" = "revision" + 1 WHERE "earnerId" = OLD."earnerId";
END;
