-- Up Migration
-- A connector that never held anything can be removed. One with accounts or grants on record stays: those
-- rows name it, and they are the evidence of who had access where.
GRANT DELETE ON connectors TO lanyard_app;

-- Down Migration
REVOKE DELETE ON connectors FROM lanyard_app;
