-- Platforms outside the consortium that use this node's OCPI endpoints with OCPI's own credentials.
-- Tokens this node issues are kept as SHA-256 digests only: the registration token (TOKEN_A) until
-- the partner registers, then the token it calls with (TOKEN_C).
CREATE TABLE ocpi_partners (
    id {{auto_id}},
    name TEXT NOT NULL,
    token_a_hash TEXT UNIQUE,
    token_c_hash TEXT UNIQUE,
    -- What the partner gave at registration: the token to call it with (TOKEN_B), its versions URL
    -- and its roles (OCPI CredentialsRole list, JSON).
    token_b TEXT,
    versions_url TEXT,
    roles TEXT,
    created_at BIGINT NOT NULL,
    registered_at BIGINT,
    revoked_at BIGINT
);
