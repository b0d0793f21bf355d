//! unlinkat cases.

use crate::case::cases;

cases! {}
