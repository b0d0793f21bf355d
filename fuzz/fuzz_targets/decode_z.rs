//! Fuzz the 9P2000.L.Z decoder.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check(data, ninefold_proto::Dialect::Z));
