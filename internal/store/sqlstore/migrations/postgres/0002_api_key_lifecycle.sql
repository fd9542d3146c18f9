-- API key lifecycle (the Admin API): expiry, revocation, last use and
-- rotation; and indexes for the keyset-paged lists, ordered by
-- (created_at, id). An unset timestamp is NULL.

ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN revoked_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT NOT NULL DEFAULT '';

CREATE INDEX organisations_created ON organisations (created_at, id);
CREATE INDEX api_keys_organisation_created ON api_keys (organisation_id, created_at, id);
CREATE INDEX connector_configs_organisation_created ON connector_configs (organisation_id, created_at, id);
CREATE INDEX connections_organisation_created ON connections (organisation_id, created_at, id);
