//! Path parameters that several operations share, for the `params(…)` of a `#[utoipa::path]`. The handlers
//! extract them as plain strings; these types carry their documentation and their form.
#![allow(dead_code)] // the fields are read by the derive only

use utoipa::IntoParams;

/// A delivery of this office's inbox.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct DeliveryIdPath {
    /// The `delivery_id` of a delivery in this office's inbox.
    #[param(format = Uuid)]
    delivery_id: String,
}

/// A registered office.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct OfficeNumberPath {
    /// The office's 10-digit number (事業所番号).
    #[param(pattern = r"^[0-9]{10}$", example = "1310000001")]
    number: String,
}

/// A delivery of the log (admin).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct DeliveryLogIdPath {
    /// The `delivery_id` (the `id` of a `delivery` entry of the log).
    #[param(format = Uuid)]
    id: String,
}

/// A token.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TokenIdPath {
    /// The token's id (from issuing or listing).
    #[param(format = Uuid)]
    id: String,
}

/// A certificate.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct SerialPath {
    /// The certificate's serial number in hexadecimal (any case; `:` between octets allowed; at most 40 digits).
    #[param(max_length = 80, pattern = "^:*([0-9A-Fa-f]:*){1,40}$")]
    serial: String,
}
