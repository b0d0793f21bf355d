//! malformed cases.

use crate::case::cases;

cases! {}
