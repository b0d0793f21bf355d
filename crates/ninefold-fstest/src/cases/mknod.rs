//! mknod cases.

use crate::case::cases;

cases! {}
