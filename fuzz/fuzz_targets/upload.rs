//! Fuzzes `http::read_upload`, the body → files parsing of `POST /v1/submissions` and `POST /v1/validate`,
//! with a fuzzed content type (and boundary), `?name=`, `Content-Length` and chunking (see
//! `careplan_relay_fuzz::upload`). It checks that the bounds hold whatever the body: never more files than
//! the limit, never a file name over 255 bytes, never more file bytes than the body limit or the body; a
//! declared length over the limit is refused unread; a raw body comes back as exactly one file; a refusal
//! is 400 or 413 with short bilingual messages.
#![no_main]

use std::cell::RefCell;

use careplan_relay::http::{MAX_FILE_NAME_BYTES, UploadLimits, read_upload};
use careplan_relay::relay::RelayError;
use careplan_relay_fuzz::upload::decode_upload;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static RUNTIME: RefCell<tokio::runtime::Runtime> = RefCell::new(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}")),
    );
}

/// The longest message a refusal may carry, in characters: fixed text plus clipped quotes.
const MAX_MESSAGE_CHARS: usize = 400;

fuzz_target!(|data: &[u8]| {
    let input = decode_upload(data);
    let (max_files, max_body) = input.limits();
    let limits = UploadLimits::new(max_body, max_files);
    // Each chunk after the first arrives after a `Pending`, as from a socket: otherwise multer would take them
    // all in its first poll and never see a chunk edge.
    let chunks = input.chunks().into_iter();
    let body = axum::body::Body::from_stream(futures_util::stream::unfold(
        (chunks, true),
        |(mut chunks, first)| async move {
            let chunk = chunks.next()?;
            if !first {
                tokio::task::yield_now().await;
            }
            Some((Ok::<_, std::io::Error>(chunk), (chunks, false)))
        },
    ));
    let declared = input.content_length();
    let result = RUNTIME.with(|rt| {
        rt.borrow().block_on(read_upload(
            input.content_type.as_deref(),
            declared,
            body,
            input.raw_name.clone(),
            &limits,
        ))
    });
    // Media types are case-insensitive (RFC 9110 8.3.1), as in read_upload.
    let multipart = input.content_type.as_deref().is_some_and(|t| {
        t.get(..19)
            .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"))
    });
    match result {
        Ok(files) => {
            assert!(
                declared.is_none_or(|n| n <= max_body as u64),
                "declared {declared:?} accepted"
            );
            assert!(
                files.len() <= max_files,
                "{} files, limit {max_files}",
                files.len()
            );
            let total: usize = files.iter().map(|f| f.bytes.len()).sum();
            assert!(total <= max_body, "{total} bytes, limit {max_body}");
            assert!(
                total <= input.body.len(),
                "{total} bytes out of a {}-byte body",
                input.body.len()
            );
            for f in &files {
                assert!(
                    f.name.len() <= MAX_FILE_NAME_BYTES,
                    "name of {} bytes",
                    f.name.len()
                );
            }
            if !multipart {
                assert_eq!(files.len(), 1);
                assert_eq!(Some(&files[0].name), input.raw_name.as_ref());
                assert_eq!(files[0].bytes, input.body);
            }
        }
        Err(e) => {
            let message = match e {
                RelayError::BadRequest(m) => {
                    assert!(
                        declared.is_none_or(|n| n <= max_body as u64),
                        "declared {declared:?}: 400"
                    );
                    m
                }
                RelayError::TooLarge(m) => m,
                other => panic!("unexpected refusal: {other:?}"),
            };
            for text in [&message.ja, &message.en] {
                let n = text.chars().count();
                assert!(
                    n > 0 && n <= MAX_MESSAGE_CHARS,
                    "message of {n} characters: {text}"
                );
            }
            if !multipart {
                // A raw body is refused only for a missing or long name, or for its size.
                let size = input.body.len() > max_body || declared.is_some_and(|n| n > max_body as u64);
                let name_ok = input
                    .raw_name
                    .as_ref()
                    .is_some_and(|n| n.len() <= MAX_FILE_NAME_BYTES);
                assert!(size || !name_ok, "raw body refused: {}", message.en);
            }
        }
    }
});
