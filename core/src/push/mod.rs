//! Push notifications: the settings, the checks a device's push target
//! passes before it is stored, and the server's VAPID key.

pub mod config;
pub mod target;
pub mod vapid;

pub use config::PushConfig;
pub use vapid::VapidKey;
