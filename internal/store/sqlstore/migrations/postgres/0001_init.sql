-- Initial schema (PostgreSQL).
-- *_enc columns hold secrets.Keyring ciphertexts of a JSON object; settings
-- columns hold a plain JSON object as text (text rather than jsonb so that
-- both dialects store exactly the same bytes).

CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    hash            BYTEA NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id);

CREATE TABLE connector_configs (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    connector_name  TEXT NOT NULL,
    settings        TEXT NOT NULL,
    secrets_enc     TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    -- Target of connections' composite foreign key, which makes the database
    -- itself guarantee a connection's config is of the same organisation.
    UNIQUE (organisation_id, id)
);

CREATE TABLE customers (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    id              TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organisation_id, id)
);

CREATE TABLE connections (
    id                  TEXT PRIMARY KEY,
    organisation_id     TEXT NOT NULL REFERENCES organisations (id),
    connector_config_id TEXT NOT NULL,
    connector_name      TEXT NOT NULL,
    customer_id         TEXT NOT NULL,
    auth_type           TEXT NOT NULL,
    status              TEXT NOT NULL,
    status_message      TEXT NOT NULL,
    settings            TEXT NOT NULL,
    credentials_enc     TEXT NOT NULL,
    version             BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (organisation_id, connector_config_id) REFERENCES connector_configs (organisation_id, id),
    FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id)
);
CREATE INDEX connections_organisation_customer ON connections (organisation_id, customer_id);
CREATE INDEX connections_organisation_config ON connections (organisation_id, connector_config_id);
