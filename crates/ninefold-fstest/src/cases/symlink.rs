//! symlink cases.

use crate::case::cases;

cases! {}
