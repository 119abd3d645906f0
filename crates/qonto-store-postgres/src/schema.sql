CREATE TABLE IF NOT EXISTS qonto_tokens (
    connection_id         text        PRIMARY KEY,
    format                smallint    NOT NULL,
    key_id                text,
    tokens                bytea       NOT NULL,
    expires_at            timestamptz NOT NULL,
    refresh_pending_since timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               bigint      NOT NULL DEFAULT 1
);
COMMENT ON TABLE qonto_tokens IS 'OAuth tokens of qonto-store-postgres, one row per connection id (schema 1)';
