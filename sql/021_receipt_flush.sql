-- Coalesced delivery receipts.
--
-- poll_ack() used to emit message.delivered into every sender's stream in
-- the acknowledging transaction. For a message to a 500-member group that
-- was 499 transactions queueing on the sender's stream row lock, each
-- also waking the sender (bench figure 4: 128 ms to the last member, one
-- recipient 4 ms). Now poll_ack() still raises the member's own
-- delivered_seq (its own row) but only appends what it would have told
-- to receipt_pending; the poll service's flusher (services/poll/
-- poll_receipts.c) calls receipts_flush() every PARLEY_RECEIPT_FLUSH_MS
-- while there is something to flush, and that one transaction emits per
-- (conversation, sender, seq) one message.delivered naming every member
-- who reached seq: a 500-member message costs the sender a few events.
--
-- Pending rows are in the database, so a poll service that dies between
-- an acknowledgement and its flush loses nothing: the next flusher (any
-- poll process, any host; one at a time under an advisory lock) sends it.

-- What an acknowledgement owes: `user_id` (whose device acknowledged)
-- reached `seq` in the conversation; `senders` are the senders of the
-- newly acknowledged messages (the member excluded), the receipt's
-- recipients. Append-only for poll_ack() (no row is ever updated, so an
-- acknowledgement never waits for the flusher); no foreign keys, whose
-- KEY SHARE on the conversation row would queue the acknowledgements of a
-- group behind its sends (send_message() locks that row). A deleted
-- conversation's or user's rows are dropped by the flush.
CREATE TABLE receipt_pending (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL,
    user_id         bigint NOT NULL,
    seq             bigint NOT NULL,
    senders         bigint[] NOT NULL
);

-- poll_ack(): sql/functions/50_poll.sql

-- receipt_max_ids(): sql/functions/00_pure.sql

-- receipts_flush(): sql/functions/50_poll.sql
