//! Values the subscription commands take.

pub use crate::command::publish::types::{MAX_TOPIC_LEN, Qos};
