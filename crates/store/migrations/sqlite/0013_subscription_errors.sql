-- When a delivering Subscription's current run of configuration errors started (no success
-- since), so that the window to ConfigurationErrorDeliveryStopped survives a restart and moves
-- to whichever process leases the Subscription next. One row while the health is
-- ConfigurationError; deleted by any write that leaves that state (a success, changeDestination).
CREATE TABLE subscription_errors (
    subscription_id TEXT NOT NULL PRIMARY KEY,
    since           TEXT NOT NULL
);
