//! link cases.

use crate::case::cases;

cases! {}
