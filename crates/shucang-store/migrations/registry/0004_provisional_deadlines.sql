-- A review deadline reckoned into a year whose holiday schedule is not
-- loaded yet counts that year's weekdays and is provisional (暂定): the
-- year is kept here until the schedule is loaded and the deadline is
-- recomputed (NULL: the deadline is exact).
ALTER TABLE reg_applications ADD COLUMN due_provisional INTEGER;
