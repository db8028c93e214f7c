//! Subscription delivery: the payloads (`payload`), the Destinations this server delivers to
//! (`sink`: RabbitMQ, NATS JetStream, HTTP) and the loop that drains the store's outbox into
//! them (`worker`). The outbox itself is written by the store, in the transaction of each
//! write, so what committed is delivered at least once, whatever happens to this process.

pub mod payload;
pub mod sink;
pub mod worker;
