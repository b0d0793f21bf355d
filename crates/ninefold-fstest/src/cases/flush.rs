//! flush cases.

use crate::case::cases;

cases! {}
