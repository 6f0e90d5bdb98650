//! The file kinds of the standard, named by their file-name prefix.

use serde::Serialize;

macro_rules! kinds {
    ($($variant:ident => $prefix:literal,)*) => {
        /// A file kind (ファイル種類), identified by the prefix of its file name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind { $($variant,)* }

        impl Kind {
            /// Every kind, CSV kinds first, in the order of the spec's catalogue.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The file-name prefix, e.g. `UPPLAN`.
            pub fn prefix(self) -> &'static str {
                match self { $(Kind::$variant => $prefix,)* }
            }
        }
    };
}

kinds! {
    Uphosoku => "UPHOSOKU",
    Up1kyo => "UP1KYO",
    Dlt1kyo => "DLT1KYO",
    Up2kyo => "UP2KYO",
    Up3kyo => "UP3KYO",
    Upplan => "UPPLAN",
    Upjsk => "UPJSK",
    Dltplan => "DLTPLAN",
    Dltjsk => "DLTJSK",
    Upsikyu => "UPSIKYU",
    Upkihon => "UPKIHON",
    UpkihonSub1 => "UPKIHON_SUB1",
    UpkihonSub2 => "UPKIHON_SUB2",
    Dltkihon => "DLTKIHON",
    Upyobo => "UPYOBO",
    UpyoboSub => "UPYOBO_SUB",
    Dltyobo => "DLTYOBO",
    UpkihonImage => "UPKIHON_IMAGE",
}

impl Kind {
    /// The kind with this exact prefix.
    pub fn from_prefix(prefix: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.prefix() == prefix)
    }

    /// The family-structure image is a JPEG, every other kind a CSV file.
    pub fn is_image(self) -> bool {
        self == Kind::UpkihonImage
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.prefix())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.prefix())
    }
}

impl utoipa::PartialSchema for Kind {
    /// A string schema listing every kind's prefix, described by `kinds.md`.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(include_str!("kinds.md").trim_end()))
            .enum_values(Some(Kind::ALL.iter().map(|k| k.prefix())))
            .into()
    }
}

impl utoipa::ToSchema for Kind {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("FileKind")
    }
}
