-- Places named in every reader's language (issue 18): a place chosen from the place extract
-- (bot/places) is stored by its key ('g726287' for a GeoNames town, 'p...' for a village
-- known from its postcode) beside its international name in `place`; NULL means the person
-- typed the name, and it is shown as typed. `region` now holds an ISO 3166-2 code ('BG-07')
-- when the place was chosen or found from a shared location, the person's words otherwise.

ALTER TABLE users ADD COLUMN place_key TEXT;
ALTER TABLE municipalities ADD COLUMN place_key TEXT;
ALTER TABLE listings ADD COLUMN place_key TEXT;
