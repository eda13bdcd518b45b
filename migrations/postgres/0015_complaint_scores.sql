-- The complaint model's heads beside the sentiment (issue "Find the complaints"):
-- p(complaint) and the severity distribution (JSON array over none, no explicit reproach,
-- disapproval, accusation, blame), with the most probable severity among the complaint
-- levels for filtering. NULL for posts scored by a sentiment-only model.
ALTER TABLE sentiments ADD COLUMN complaint DOUBLE PRECISION;
ALTER TABLE sentiments ADD COLUMN severity TEXT;
ALTER TABLE sentiments ADD COLUMN severity_json TEXT;
