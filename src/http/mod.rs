//! HTTP building blocks the features share: the validated JSON body, query
//! parameters, cursors, links and the success responses.

mod body;
mod catch;
mod client;
mod cors;
mod cursor;
mod link;
mod methods;
mod precondition;
mod query;
mod reply;

pub use body::{check, Valid, BODY_LIMIT};
pub use catch::{catchers, unknown_method};
pub use client::{client_ip, Network, PREFIX_HEADER};
pub use cors::Cors;
pub use cursor::Cursors;
pub use link::{prefix, public, Prefix};
pub use methods::{allow_header, allowed, routes as method_routes, template as route_template};
pub use precondition::IfMatch;
pub use query::{CategoryFilter, Cursor, From, Limit, Query, QueryParam, To};
pub use reply::{Accepted, Created, Page, Paged, Reply, Tagged, Versioned};
