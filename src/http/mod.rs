//! HTTP building blocks the features share: the validated JSON body, query
//! parameters, cursors, links and the success responses.

mod body;
mod client;
mod cursor;
mod link;
mod precondition;
mod query;
mod reply;

pub use body::{check, Valid, BODY_LIMIT};
pub use client::{client_ip, Network};
pub use cursor::Cursors;
pub use link::{prefix, public, Prefix, PREFIX_HEADER};
pub use precondition::IfMatch;
pub use query::{CategoryFilter, Cursor, From, Limit, Query, QueryParam, To};
pub use reply::{Accepted, Created, Page, Paged, Reply, Tagged, Versioned};
