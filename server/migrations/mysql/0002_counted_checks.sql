-- Which checks count toward their owner's share of unreported links: those of folders with
-- limits, whose uploads the library reports. A folder without limits owes a check too (to
-- learn what was stored), but nobody reports its uploads, so they must not fill the share:
-- 500 uploads in a quarter of an hour would have locked a user out.
ALTER TABLE checks ADD COLUMN counted TINYINT NOT NULL DEFAULT 1;
