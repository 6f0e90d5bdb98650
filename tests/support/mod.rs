//! Test support shared by the integration tests and the fixture generator.
#![allow(dead_code)] // each test binary uses a different part

pub mod catalog;
pub mod checked;
pub mod contract;
pub mod db;
pub mod process;
pub mod stored;

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

/// A spec file name with its 14-digit sequence (連番) replaced by `sequence`: the fixtures each have their own
/// sequence, so a test that sends one beside other sets renames it without knowing which.
pub fn with_sequence(name: &str, sequence: &str) -> String {
    let b = name.as_bytes();
    let found = (1..b.len().saturating_sub(14)).find(|&i| {
        b[i - 1] == b'_'
            && b[i..i + 14].iter().all(u8::is_ascii_digit)
            && matches!(b.get(i + 14), Some(b'.' | b'_'))
    });
    match found {
        Some(i) => format!("{}{sequence}{}", &name[..i], &name[i + 14..]),
        None => name.to_string(),
    }
}
