-- The member (the node's owner, who speaks for it in the consortium) and the operators it hosts have
-- roles of their own: member_admin, member_finance and member_readonly; admin, operator and readonly
-- of an operator (or, without one, of every operator the node hosts). The node's administrators
-- without an operator were the member's.
UPDATE staff SET role = 'member_admin' WHERE role = 'admin' AND operator_id IS NULL;
-- active or disabled (a disabled account's logins and API keys are refused)
ALTER TABLE staff ADD COLUMN status TEXT NOT NULL DEFAULT 'active';

-- Logins and API keys, kept as SHA-256 digests only, now with an id (keys are listed and revoked by
-- it), and for API keys the role and operator they act with: never more than their creator's.
CREATE TABLE staff_credentials (
    id {{auto_id}},
    secret_digest TEXT NOT NULL UNIQUE,
    staff_id BIGINT NOT NULL REFERENCES staff(id),
    -- login or api_key
    kind TEXT NOT NULL,
    name TEXT,
    -- api keys: the role they act with; logins act with the account's
    role TEXT,
    -- api keys: the one operator they reach (NULL: what the account reaches)
    operator_id BIGINT REFERENCES operators(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
INSERT INTO staff_credentials (secret_digest, staff_id, kind, name, role, operator_id, created_at, expires_at)
    SELECT c.secret_digest, c.staff_id, c.kind, c.name,
        CASE WHEN c.kind = 'api_key' THEN s.role END, CASE WHEN c.kind = 'api_key' THEN s.operator_id END,
        c.created_at, c.expires_at
    FROM api_credentials c JOIN staff s ON s.id = c.staff_id;
DROP TABLE api_credentials;
CREATE INDEX staff_credentials_by_staff ON staff_credentials (staff_id);

-- Wrong passwords, by who was tried (staff:<username>, driver:<username>), from where
-- (address:<ip>) and both (…@<ip>): each further one makes the next attempt wait longer.
CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    blocked_until BIGINT
);
ALTER TABLE drivers DROP COLUMN failed_logins;
ALTER TABLE drivers DROP COLUMN locked_until;

-- A roaming start belongs to the operator whose driver's token it charges.
ALTER TABLE roaming_starts ADD COLUMN operator_id BIGINT;
UPDATE roaming_starts SET operator_id = (SELECT t.operator_id FROM tokens t WHERE t.id_token = roaming_starts.id_token);
