//! rename cases.

use crate::case::cases;

cases! {}
