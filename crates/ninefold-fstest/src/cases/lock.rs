//! lock cases.

use crate::case::cases;

cases! {}
