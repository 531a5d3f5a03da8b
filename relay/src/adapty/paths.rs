//! The endpoints of Adapty's server-side API the relay calls, relative to
//! an app's API base; the demo's stand-in serves the same ones.

use crate::rules::change::Action;

pub const PROFILE: &str = "api/v2/server-side-api/profile/";
pub const GRANT: &str = "api/v2/server-side-api/purchase/profile/grant/access-level/";
pub const REVOKE: &str = "api/v2/server-side-api/purchase/profile/revoke/access-level/";

/// The endpoint of a change.
pub fn of_change(action: Action) -> &'static str {
    match action {
        Action::Grant => GRANT,
        Action::Revoke => REVOKE,
    }
}
