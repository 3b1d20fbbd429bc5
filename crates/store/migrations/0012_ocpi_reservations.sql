-- Reservations other members asked this node for (OCPI RESERVE_NOW): the member's reservation id
-- and the integer id the charger knows it by (OCPP), which a repeated or cancelling request finds.
CREATE TABLE ocpi_reservations (
    id {{auto_id}},
    member TEXT NOT NULL,
    reservation_id TEXT NOT NULL,
    station_id TEXT NOT NULL,
    id_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (member, reservation_id)
);
