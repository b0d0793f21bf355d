//! xattr cases.

use crate::case::cases;

cases! {}
