//! The outside world as the pure apply logic sees it: the project, the request's time, fresh
//! ids and the password hasher. Data only, shared by `apply` and its submodules.

use crate::error::DomainError;
use crate::password::PasswordHash;
use crate::project::Project;
use time::OffsetDateTime;

/// Everything the pure logic needs from outside: project settings, the clock, fresh ids and the
/// (slow) password hasher.
pub struct ApplyContext<'a> {
    /// The project the customer lives in.
    pub project: &'a Project,
    /// The time of the request.
    pub now: OffsetDateTime,
    /// Produces fresh ids (addresses); tests pass a deterministic one.
    pub new_id: &'a mut dyn FnMut() -> String,
    /// Hashes a plain-text password; the caller runs this off the async executor.
    pub hash_password: &'a mut dyn FnMut(&str) -> Result<PasswordHash, DomainError>,
}
