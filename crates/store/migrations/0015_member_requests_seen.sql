-- Member requests this node accepted (the digest of what each signed), kept while a replay of one
-- would still be on time (five minutes either side of its signing time): a restart does not make
-- replays possible.
CREATE TABLE member_requests_seen (
    request_digest TEXT PRIMARY KEY,
    signed_at BIGINT NOT NULL
);
CREATE INDEX member_requests_seen_by_time ON member_requests_seen (signed_at);
