-- Each load of a calendar year adds one to its revision: the sum over the years tells an
-- instance whether the calendar it holds is still the one in the database.
ALTER TABLE calendar_years ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
