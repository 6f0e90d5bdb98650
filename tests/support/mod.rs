//! Test support shared by the integration tests and the fixture generator.
#![allow(dead_code)] // each test binary uses a different part

pub mod catalog;
pub mod db;
pub mod process;

/// The files of a set directory as `(file name, bytes)`, sorted by name; subdirectories are left out.
pub fn read_set(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry"))
        .filter(|e| e.path().is_file())
        .map(|e| {
            let name = e.file_name().into_string().expect("a UTF-8 name");
            (name, std::fs::read(e.path()).expect("read"))
        })
        .collect();
    files.sort();
    files
}
