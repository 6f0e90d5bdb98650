//! `read_upload` without a server: the bounds of parts, part headers and names, and reading stopping at once.

use std::convert::Infallible;

use axum::body::{Body, Bytes};

use super::*;

const B: &str = "b0undary";

fn content_type() -> String {
    format!("multipart/form-data; boundary={B}")
}

fn part(name: &str, disposition_extra: &str, bytes: &[u8]) -> Vec<u8> {
    let mut p =
        format!("--{B}\r\nContent-Disposition: form-data; name=\"{name}\"{disposition_extra}\r\n\r\n")
            .into_bytes();
    p.extend_from_slice(bytes);
    p.extend_from_slice(b"\r\n");
    p
}

async fn read(body: Vec<u8>, limits: &UploadLimits) -> Result<Vec<UploadedFile>, RelayError> {
    read_upload(Some(&content_type()), None, Body::from(body), None, limits).await
}

#[tokio::test]
async fn every_kind_of_part_counts_and_one_more_is_413() {
    let limits = UploadLimits::new(1 << 20, 4);
    // Empty parts count (and the count comes first: the fifth part is refused before its name is looked at).
    let mut five_empty: Vec<u8> = (0..4)
        .flat_map(|i| part("file", &format!("; filename=\"E{i}.CSV\""), b""))
        .collect();
    five_empty.extend(part("x", "", b""));
    let r = read(five_empty, &limits).await;
    assert!(matches!(r, Err(RelayError::TooLarge(_))), "{r:?}");
    // A part of another name is refused at once.
    let other = part("x", "; filename=\"A.CSV\"", b"a");
    assert!(matches!(
        read(other, &limits).await,
        Err(RelayError::BadRequest(_))
    ));
    let mut four: Vec<u8> = (0..4)
        .flat_map(|i| part("file", &format!("; filename=\"F{i}.CSV\""), b"a"))
        .collect();
    four.extend_from_slice(format!("--{B}--\r\n").as_bytes());
    assert_eq!(read(four, &limits).await.map(|f| f.len()).ok(), Some(4));
}

#[tokio::test]
async fn reading_stops_at_the_part_over_the_limit() {
    // Five parts, then a body that never ends: the answer comes without reading it.
    let limits = UploadLimits::new(usize::MAX, 4);
    let head: Vec<u8> = (0..5)
        .flat_map(|i| part("file", &format!("; filename=\"F{i}.CSV\""), b"a"))
        .collect();
    // Each chunk after the first comes after a `Pending`, as from a socket.
    let endless = futures_util::stream::unfold(Some(head), |head| async move {
        let chunk = match head {
            Some(h) => Bytes::from(h),
            None => {
                tokio::task::yield_now().await;
                Bytes::from_static(&[b'z'; 4096])
            }
        };
        Some((Ok::<_, Infallible>(chunk), None))
    });
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        read_upload(
            Some(&content_type()),
            None,
            Body::from_stream(endless),
            None,
            &limits,
        ),
    )
    .await
    .expect("refused without reading the rest");
    assert!(matches!(r, Err(RelayError::TooLarge(_))));
}

#[tokio::test]
async fn long_names_and_large_part_headers_are_400() {
    let limits = UploadLimits::new(1 << 20, 64);
    let long = format!("; filename=\"{}.CSV\"", "A".repeat(252));
    let Err(RelayError::BadRequest(m)) = read(part("file", &long, b"a"), &limits).await else {
        panic!("a 256-byte name is refused");
    };
    assert!(
        m.en.contains("256 bytes") && m.en.chars().count() < 150,
        "{}",
        m.en
    );
    let mut big = format!("--{B}\r\nX-Padding: {}\r\n", "v".repeat(9000)).into_bytes();
    big.extend(part("file", "; filename=\"A.CSV\"", b"a").split_off(B.len() + 4));
    let Err(RelayError::BadRequest(m)) = read(big, &limits).await else {
        panic!("9 KB of part headers are refused");
    };
    assert!(m.en.contains("headers"), "{}", m.en);
    let raw = read_upload(None, None, Body::from("a"), Some("N".repeat(256)), &limits).await;
    assert!(matches!(raw, Err(RelayError::BadRequest(_))));
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_unread() {
    let limits = UploadLimits::new(10, 64);
    let never = futures_util::stream::pending::<Result<Bytes, Infallible>>();
    let r = read_upload(
        Some("text/csv"),
        Some(11),
        Body::from_stream(never),
        Some("A.CSV".into()),
        &limits,
    )
    .await;
    assert!(matches!(r, Err(RelayError::TooLarge(_))));
    let r = read_upload(
        Some("text/csv"),
        None,
        Body::from("x".repeat(11)),
        Some("A.CSV".into()),
        &limits,
    )
    .await;
    assert!(
        matches!(r, Err(RelayError::TooLarge(_))),
        "a body without a length is bounded as it is read"
    );
}
