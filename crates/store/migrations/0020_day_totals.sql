-- The dashboard's "today": sessions that ended since the day began, found without reading them all.
CREATE INDEX sessions_by_stop ON sessions (stopped_at);
