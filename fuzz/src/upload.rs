//! The input format of the `upload` target, shared with the seed generator.
//!
//! `<flags byte><content type>\n[<raw name>\n]<body>`:
//!
//! * flags bits 0–2: how the body arrives: 0 in one chunk, 1–7 in chunks of [`CHUNKS`]`[n - 1]` bytes;
//! * bit 3: a `?name=` follows the content type (up to the next `\n`), else none;
//! * bit 4: the request declares its `Content-Length` (the body's length), else none (chunked);
//! * bit 5: small limits ([`SMALL`]: 4 parts, 64 KiB), else [`LARGE`] (64 parts, 256 KiB);
//! * bit 6: the declared `Content-Length` is the body limit plus one (a lie when the body is shorter).
//!
//! An empty content type line means no `Content-Type` header.

/// Chunk sizes selected by flags bits 0–2.
pub const CHUNKS: [usize; 7] = [1, 7, 64, 511, 4096, 16 * 1024, 64 * 1024];
/// (max files, max body bytes) with flags bit 5.
pub const SMALL: (usize, usize) = (4, 64 * 1024);
/// (max files, max body bytes) without flags bit 5: the default file count, a body limit below `-max_len`.
pub const LARGE: (usize, usize) = (64, 256 * 1024);

pub const F_RAW_NAME: u8 = 1 << 3;
pub const F_LENGTH: u8 = 1 << 4;
pub const F_SMALL: u8 = 1 << 5;
pub const F_OVERSTATED: u8 = 1 << 6;

/// One decoded request.
#[derive(Debug)]
pub struct UploadInput<'a> {
    pub flags: u8,
    pub content_type: Option<String>,
    pub raw_name: Option<String>,
    pub body: &'a [u8],
}

impl UploadInput<'_> {
    /// The body split as it arrives.
    pub fn chunks(&self) -> Vec<Vec<u8>> {
        match self.flags & 7 {
            0 => vec![self.body.to_vec()],
            n => self
                .body
                .chunks(CHUNKS[usize::from(n) - 1])
                .map(<[u8]>::to_vec)
                .collect(),
        }
    }

    /// (max files, max body bytes).
    pub fn limits(&self) -> (usize, usize) {
        if self.flags & F_SMALL != 0 { SMALL } else { LARGE }
    }

    /// The declared `Content-Length`, if any.
    pub fn content_length(&self) -> Option<u64> {
        if self.flags & F_OVERSTATED != 0 {
            Some(self.limits().1 as u64 + 1)
        } else if self.flags & F_LENGTH != 0 {
            Some(self.body.len() as u64)
        } else {
            None
        }
    }
}

fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b'\n', data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Decodes an input (any bytes decode).
pub fn decode_upload(data: &[u8]) -> UploadInput<'_> {
    let Some((&flags, rest)) = data.split_first() else {
        return UploadInput {
            flags: 0,
            content_type: None,
            raw_name: None,
            body: &[],
        };
    };
    let (ct, rest) = line(rest);
    let content_type = (!ct.is_empty()).then(|| String::from_utf8_lossy(ct).into_owned());
    let (raw_name, body) = if flags & F_RAW_NAME != 0 {
        let (n, b) = line(rest);
        (Some(String::from_utf8_lossy(n).into_owned()), b)
    } else {
        (None, rest)
    };
    UploadInput {
        flags,
        content_type,
        raw_name,
        body,
    }
}

/// Encodes an input (the inverse of [`decode_upload`] for names and content types without `\n`).
pub fn encode_upload(flags: u8, content_type: &str, raw_name: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = vec![flags & !F_RAW_NAME | if raw_name.is_some() { F_RAW_NAME } else { 0 }];
    out.extend_from_slice(content_type.as_bytes());
    out.push(b'\n');
    if let Some(n) = raw_name {
        out.extend_from_slice(n.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(body);
    out
}

/// The boundary of the generated multipart bodies.
pub const BOUNDARY: &str = "----careplanRelayBoundary7MA4YWxk";

/// A `multipart/form-data` body with each (part name, file name, bytes) as a part, as clients send it.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file_name, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file_name {
            Some(f) => format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n"),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
        };
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"Content-Type: application/octet-stream\r\n\r\n");
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// The content type of [`multipart`] bodies.
pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}
