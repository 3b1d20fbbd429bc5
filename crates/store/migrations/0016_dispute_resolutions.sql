-- What a driver got back when members settled a disputed charge for less than the driver paid
-- (minor units), and its settlement is `resolved`.
ALTER TABLE roaming_settlements ADD COLUMN refunded BIGINT;
