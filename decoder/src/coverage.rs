//! Conformance coverage counters (feature `coverage`): which syntax elements, enumerated values,
//! decoding branches and requirement IDs a run of the decoder exercised. Without the feature
//! every function here is empty and compiles away.
//!
//! Keys: `syntax:<table>.<element>`, `value:<element>=<name>`, `branch:<what>`, `req:<ID>`.

#[cfg(feature = "coverage")]
mod counters {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    static HITS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

    pub fn hit(key: &str) {
        let mut hits = HITS.lock().unwrap_or_else(|e| e.into_inner());
        *hits.entry(key.to_string()).or_insert(0) += 1;
    }

    pub fn take() -> BTreeMap<String, u64> {
        std::mem::take(&mut *HITS.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Records one hit of `key`.
#[inline]
pub fn hit(_key: &str) {
    #[cfg(feature = "coverage")]
    counters::hit(_key);
}

/// Records every syntax element of a parsed structure.
#[inline]
pub fn syntax<S: crate::syntax::SyntaxStructure>(_structure: &S) {
    #[cfg(feature = "coverage")]
    {
        struct Visit(&'static str);
        impl crate::syntax::FieldVisitor for Visit {
            fn field(&mut self, name: &'static str, _: crate::syntax::FieldValue<'_>) {
                counters::hit(&format!("syntax:{}.{}", self.0, name));
            }
        }
        _structure.visit_fields(&mut Visit(S::NAME.trim_end_matches("()")));
    }
}

/// Records an enumerated value, e.g. `value("element_type", "float16")`.
#[inline]
pub fn value(_element: &str, _name: &str) {
    #[cfg(feature = "coverage")]
    counters::hit(&format!("value:{_element}={_name}"));
}

/// Takes and clears the counters gathered so far (empty without the feature).
pub fn take() -> std::collections::BTreeMap<String, u64> {
    #[cfg(feature = "coverage")]
    return counters::take();
    #[cfg(not(feature = "coverage"))]
    std::collections::BTreeMap::new()
}

/// Whether this build counts coverage.
pub const ENABLED: bool = cfg!(feature = "coverage");
