-- Public pages hide every address of the earner: a change to those addresses moves the
-- earner's revision too, so that pages rendered before the change are not served after it.
CREATE TRIGGER "email_addresses_revision" AFTER INSERT OR UPDATE OR DELETE ON "email_addresses"
  FOR EACH ROW EXECUTE FUNCTION "earner_revision_bump"();
