-- Browsing at scale (issue 19): a result page is read from an index in date order and stops
-- at its LIMIT (and the capped count at 1,001), instead of collecting every match and sorting.
--
-- A page is limited to an area (a region, a country, or all of Europe) and maybe a kind and a
-- category. With a category, the matching indexes of 0004 (kind, category, area...,
-- published_at) give exactly the matches in order (both kinds: two of them, merged). Without
-- one, these give the area's listings newest first, the kind tested inside the index; the id
-- after published_at serves "newest first, then highest id" and the next page's keyset
-- (published_at, id) < (the last one shown) as one range.
CREATE INDEX listings_open_newest
    ON listings (published_at, id, expires_at, kind) WHERE status = 'open';
CREATE INDEX listings_open_newest_in_country
    ON listings (country, published_at, id, expires_at, kind) WHERE status = 'open';
CREATE INDEX listings_open_newest_in_region
    ON listings (country, region, published_at, id, expires_at, kind) WHERE status = 'open';

-- Near a point: by one-degree band of latitude, then longitude, so that a box is read as a
-- few ranges of longitude (one per band) instead of a whole band across Europe; latitude and
-- expiry are tested inside the index.
CREATE INDEX listings_open_by_band
    ON listings (CAST(latitude AS INTEGER), longitude, latitude, expires_at)
    WHERE status = 'open' AND latitude IS NOT NULL;
DROP INDEX listings_open_by_latitude;

-- The browse indexes of 0002 filtered first and sorted every match after; nothing else uses them.
DROP INDEX listings_open_by_category;
DROP INDEX listings_open_by_country;
