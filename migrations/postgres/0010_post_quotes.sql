-- The post a post quotes (an X quote, a Bluesky record embed, a Mastodon quote, a Reddit
-- crosspost): its platform id, and its text when the platform sends it along, so the review
-- queue shows what the customer was reacting to.
ALTER TABLE posts ADD COLUMN quote_of TEXT;
ALTER TABLE posts ADD COLUMN quoted_text TEXT;
