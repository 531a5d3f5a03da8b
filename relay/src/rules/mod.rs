//! What a caller may ask, checked before any byte goes to Adapty: a lookup
//! names one customer (`lookup`), a change one access level of one
//! customer, with its dates and a reason (`change`), a correction its
//! contact details and custom attributes (`correction`), an erasure the
//! customer, confirmed (`erasure`), a note its text (`notes`), a bulk run
//! its list (`bulk`); the bodies are read alike (`fields`).

pub mod bulk;
pub mod change;
pub mod correction;
pub mod erasure;
pub mod fields;
pub mod lookup;
pub mod notes;
pub mod store_query;
