-- Subscriptions (the resource itself lives in `resources`, type_id 'subscription').
--
-- subscription_filters: what each delivering Subscription wants, one row per (kind, resource
-- type, Message type; '' = every type), rewritten in the transaction that writes the
-- Subscription. A write of a customer or resource fans out into subscription_outbox through
-- these rows, in its own transaction: the outbox holds exactly what committed after the
-- Subscription did.
CREATE TABLE subscription_filters (
    subscription_id  TEXT COLLATE "C" NOT NULL,
    project          TEXT COLLATE "C" NOT NULL,
    kind             TEXT COLLATE "C" NOT NULL,
    resource_type_id TEXT COLLATE "C" NOT NULL,
    message_type     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (subscription_id, kind, resource_type_id, message_type)
);
CREATE INDEX subscription_filters_match_idx
    ON subscription_filters (project, kind, resource_type_id, message_type);

-- One undelivered notification for one Subscription; deleted once the broker acknowledged it.
-- `seq` orders a Subscription's notifications (per resource it is the commit order, since the
-- writes of one resource are serialized by its row).
CREATE TABLE subscription_outbox (
    seq              BIGSERIAL PRIMARY KEY,
    subscription_id  TEXT COLLATE "C" NOT NULL,
    project          TEXT COLLATE "C" NOT NULL,
    notification     TEXT COLLATE "C" NOT NULL,
    resource_type_id TEXT COLLATE "C" NOT NULL,
    resource_id      TEXT COLLATE "C" NOT NULL,
    message_id       TEXT COLLATE "C" NULL,
    version          BIGINT NULL,
    old_version      BIGINT NULL,
    modified_at      TEXT COLLATE "C" NULL,
    identifiers      TEXT COLLATE "C" NULL,
    data_erasure     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX subscription_outbox_subscription_idx ON subscription_outbox (subscription_id, seq);

-- Which process delivers a Subscription, until when (a dead process's lease expires).
CREATE TABLE subscription_leases (
    subscription_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    owner           TEXT COLLATE "C" NOT NULL,
    expires_at      TEXT COLLATE "C" NOT NULL
);
