//! Reading a backend's connection-pool occupancy for metrics. Owns only the arithmetic over
//! sqlx's pool counters; it must not touch a connection or run a statement.

use crate::PoolStats;

/// Sums the occupancy of `pools` (SQLite keeps a reader pool and a writer pool).
pub(crate) fn of<DB: sqlx::Database>(pools: &[&sqlx::Pool<DB>]) -> PoolStats {
    pools.iter().fold(PoolStats::default(), |acc, pool| {
        let open = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        PoolStats {
            open: acc.open + open,
            in_use: acc.in_use + open.saturating_sub(idle),
            max: acc.max + pool.options().get_max_connections(),
        }
    })
}
