DROP TRIGGER invoices_touch ON invoices;
DROP FUNCTION touch_invoice();
