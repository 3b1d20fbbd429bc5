-- OCPI locations name the city of every site.
ALTER TABLE sites ADD COLUMN city TEXT;
