CREATE OR REPLACE FUNCTION touch_invoice() RETURNS trigger AS $$
BEGIN
  NEW.note := coalesce(NEW.note, '');
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoices_touch BEFORE INSERT OR UPDATE ON invoices
  FOR EACH ROW EXECUTE FUNCTION touch_invoice();
