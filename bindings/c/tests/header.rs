//! `include/ninefold.h` is what cbindgen generates from this crate's
//! source today. `NINEFOLD_BLESS=1` rewrites it.

#![allow(missing_docs)]

#[test]
fn header_matches_the_rust_source() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config =
        cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = format!("{dir}/include/ninefold.h");
    if std::env::var_os("NINEFOLD_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write header");
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{path} is stale: regenerate with NINEFOLD_BLESS=1 cargo test -p ninefold-capi --test header"
    );
    // Every exported function is declared.
    let text = String::from_utf8(generated).expect("UTF-8 header");
    for f in ["nf_client_connect_with", "nf_file_read_at", "nf_dir_rename_at", "nf_cancel_trigger"]
    {
        assert!(text.contains(&format!("{f}(")), "{f} missing from the header");
    }
}
