-- Where a running session's energy assessment stands, so each new reading extends it instead of
-- re-reading the whole series.
ALTER TABLE sessions ADD COLUMN energy_end_at BIGINT;
ALTER TABLE sessions ADD COLUMN energy_end_mwh BIGINT;
