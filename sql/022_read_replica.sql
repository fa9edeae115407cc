-- History pages may come from a streaming replica (PARLEY_READ_DATABASE_URL,
-- services/messages/messages_replica.c) when it has the conversation's
-- head and all of its recalls. Counting the recalls must stay cheap on
-- both servers: an index of the recalled messages only.
CREATE INDEX messages_recalled ON messages (conversation_id)
    WHERE recalled_at IS NOT NULL;
