//! Family-structure images (家族構成 画像, `UPKIHON_IMAGE_…jpg`): judged by decoding them with a JPEG decoder,
//! as the recipient's software will, not by their markers. Bytes after the end-of-image marker (cameras and
//! phones write them) are ignored, as every decoder does.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// Longest side decoded, in pixels.
pub(super) const MAX_SIDE: usize = 10_000;
/// Most pixels decoded (a 48-megapixel camera photo); decoded as grey, one byte per pixel.
pub(super) const MAX_PIXELS: usize = 48_000_000;

/// `Ok` when the bytes are a JPEG that decodes within the bounds; otherwise why not, in Japanese and English.
pub(super) fn check(bytes: &[u8]) -> Result<(), (String, String)> {
    let options = DecoderOptions::default()
        .set_max_width(MAX_SIDE)
        .set_max_height(MAX_SIDE)
        .jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let refused = |e: &dyn std::fmt::Display| {
        let why = crate::message::clip(&e.to_string());
        (
            format!("JPEG 画像として読めません（{why}）。家族構成の画像は JPEG で送ってください。"),
            format!("not a JPEG image that decodes ({why}); family-structure images are JPEG files"),
        )
    };
    decoder.decode_headers().map_err(|e| refused(&e))?;
    let (width, height) = decoder
        .info()
        .map(|i| (usize::from(i.width), usize::from(i.height)))
        .unwrap_or_default();
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err((
            format!("画像が大きすぎます（{width}×{height} 画素、上限 {MAX_PIXELS} 画素）。"),
            format!("the image is too large ({width}×{height} pixels, at most {MAX_PIXELS})"),
        ));
    }
    decoder.decode().map(|_| ()).map_err(|e| refused(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_that_decodes_is_taken_with_bytes_after_its_end() {
        let jpeg = crate::generate::tiny_jpeg();
        assert_eq!(check(&jpeg), Ok(()));
        let mut trailing = jpeg;
        trailing.extend_from_slice(b"\0\0\0 phone metadata after EOI");
        assert_eq!(check(&trailing), Ok(()));
    }

    #[test]
    fn markers_alone_or_a_cut_file_are_refused() {
        let markers = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0xFF, 0xD9];
        assert!(check(&markers).is_err());
        let jpeg = crate::generate::tiny_jpeg();
        assert!(check(&jpeg[..jpeg.len() / 3]).is_err());
        assert!(check(b"GIF89a").is_err());
    }
}
