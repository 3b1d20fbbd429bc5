-- The audit log: every change made through the API (who, with which role and operator, what, the
-- object before and after, when, from which address), every login, every governance act and every
-- money movement. Entries are appended and never changed: the product has no way to edit them.
CREATE TABLE audit_log (
    id {{auto_id}},
    at BIGINT NOT NULL,
    -- staff, driver, anonymous (a login attempt) or node (what the node does by itself)
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT,
    actor_role TEXT,
    actor_operator_id BIGINT,
    -- login or api_key <id>
    credential TEXT,
    address TEXT,
    action TEXT NOT NULL,
    object TEXT,
    -- whose object it is: its operator's staff read the entry; NULL for the member's own business
    operator_id BIGINT,
    status BIGINT,
    -- what was asked (the request body, secrets left out)
    request_json TEXT,
    before_json TEXT,
    after_json TEXT,
    detail TEXT
);
CREATE INDEX audit_log_by_operator ON audit_log (operator_id, id);
CREATE INDEX audit_log_by_time ON audit_log (at);
