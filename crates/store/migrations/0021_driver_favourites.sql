-- The chargers a driver marked in the app, to find them again first (any member's: the member's
-- party id and the charger's EVSE uid, as the driver API names them).
CREATE TABLE driver_favourites (
    driver_id BIGINT NOT NULL REFERENCES drivers(id),
    operator TEXT NOT NULL,
    evse_uid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (driver_id, operator, evse_uid)
);
