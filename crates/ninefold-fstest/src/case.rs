//! The case table: one [`Case`] per named check, and the macro the
//! category files use to declare theirs.

use std::future::Future;
use std::pin::Pin;

use ninefold_proto::Dialect;

use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::R;

/// A boxed case future borrowing its context.
pub(crate) type CaseFuture<'a> = Pin<Box<dyn Future<Output = R<()>> + Send + 'a>>;

/// The function type of a case.
pub(crate) type CaseFn = for<'a, 't> fn(&'a mut Ctx<'t>) -> CaseFuture<'a>;

/// One conformance case.
#[derive(Clone, Copy)]
pub struct Case {
    /// `category/case`.
    pub name: &'static str,
    /// The dialect the case speaks.
    pub dialect: Dialect,
    /// Capabilities without which the case is skipped.
    pub needs: Caps,
    /// What the case checks, with the answer it expects.
    pub expects: &'static str,
    pub(crate) run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("dialect", &self.dialect)
            .field("needs", &self.needs)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// The category: the part of the name before the slash.
    pub fn category(&self) -> &'static str {
        self.name.split('/').next().unwrap_or(self.name)
    }
}

/// Declares a list of cases as `pub(crate) fn cases() -> Vec<Case>`.
///
/// ```ignore
/// cases! {
///     "walk/clone", L, Caps::empty(), "nwname 0 gives Rwalk with no qids" => walk_clone;
/// }
/// ```
macro_rules! cases {
    ($( $name:literal, $dialect:ident, $needs:expr, $expects:literal => $f:ident; )*) => {
        pub(crate) fn cases() -> Vec<$crate::case::Case> {
            vec![ $(
                $crate::case::Case {
                    name: $name,
                    dialect: ninefold_proto::Dialect::$dialect,
                    needs: $needs,
                    expects: $expects,
                    run: {
                        fn wrap<'a, 't>(cx: &'a mut $crate::ctx::Ctx<'t>) -> $crate::case::CaseFuture<'a> {
                            Box::pin($f(cx))
                        }
                        wrap
                    },
                },
            )* ]
        }
    };
}
pub(crate) use cases;
