//! What a caller may ask, checked before any byte goes to Adapty: a lookup
//! names one customer (`lookup`), a change one access level of one
//! customer, with its dates and a reason (`change`).

pub mod change;
pub mod lookup;
pub mod store_query;
